import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/app';
import { testConfig } from '../helpers/config';
import { captureLogs } from '../helpers/log-capture';
import { expectAnswer } from '../helpers/answers';

describe('the HTTP app', () => {
  let t: TestApp;
  let uiDir: string;
  beforeAll(async () => {
    uiDir = await mkdtemp(join(tmpdir(), 'switchboard-ui-'));
    await writeFile(join(uiDir, 'index.html'), '<html>maubot ui</html>');
    await mkdir(join(uiDir, 'static', 'js'), { recursive: true });
    await writeFile(join(uiDir, 'static', 'js', 'main.js'), 'console.log(1)');
    t = await createTestApp('embedded', {
      config: testConfig({
        server: {
          unsharedSecret: 'maubot-compat-test-secret',
          publicUrl: 'https://example.org/prefix/',
          uiDirectory: uiDir,
        },
        webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' },
        jira: {
          webhookSecret: 'jira-hook-secret',
          oauth: { clientId: 'c', clientSecret: 's', redirectUri: 'http://127.0.0.1/jira/oauth' },
        },
      }),
    });
  });
  afterAll(() => t.close());

  it('when paths.json is fetched, then api_path includes the public URL path', async () => {
    const res = await request(t.app).get('/_matrix/maubot/paths.json');
    expectAnswer(res, 200, { api_path: '/prefix/_matrix/maubot/v1' });
  });

  it('when the UI path is requested without the slash, then it redirects to the slash form', async () => {
    const res = await request(t.app).get('/_matrix/maubot');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/prefix/_matrix/maubot/');
  });

  it('when the UI is requested, then index.html and its assets are served', async () => {
    const index = await request(t.app).get('/_matrix/maubot/');
    expect(index.status).toBe(200);
    expect(index.text).toBe('<html>maubot ui</html>');
    const asset = await request(t.app).get('/_matrix/maubot/static/js/main.js');
    expect(asset.text).toBe('console.log(1)');
    const unknown = await request(t.app).get('/_matrix/maubot/static/js/missing.js');
    expect(unknown.text).toBe('<html>maubot ui</html>');
  });

  it('when the UI is asked with HEAD, then the GET answers without bodies, as aiohttp gives', async () => {
    for (const path of ['/_matrix/maubot/', '/_matrix/maubot/static/js/missing.js']) {
      const head = await request(t.app).head(path);
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/html/);
      expect(head.headers['content-length']).toBe(String('<html>maubot ui</html>'.length));
    }
    const paths = await request(t.app).head('/_matrix/maubot/paths.json');
    expect(paths.status).toBe(200);
  });

  it('when the API is requested below the UI path, then the API answers', async () => {
    const res = await request(t.app).get('/_matrix/maubot/v1/version');
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('auth_token_missing');
  });

  it('when /health and /ready are requested, then both are ok', async () => {
    expect((await request(t.app).get('/health')).body).toEqual({ status: 'ok' });
    // No provisioning bot is configured here: /ready says so beside the database's state.
    expect((await request(t.app).get('/ready')).body).toEqual({
      ready: true,
      provisioningBot: { status: 'unconfigured', syncing: false },
    });
  });

  it('when /metrics is requested, then Prometheus text with the request counter', async () => {
    await request(t.app).get('/health');
    const res = await request(t.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('switchboard_http_requests_total{method="GET",status="200"}');
  });

  it('when /docs is requested, then Swagger UI lists both specs', async () => {
    const page = await request(t.app).get('/docs/');
    expect(page.status).toBe(200);
    // The definition selector (explorer) is shown, so both specs can be reached from the page.
    expect(page.text).not.toContain('download-url-wrapper { display: none }');
    const init = await request(t.app).get('/docs/swagger-ui-init.js');
    expect(init.text).toContain('/openapi/maubot.yaml');
    expect(init.text).toContain('/openapi/provisioning.yaml');
    const spec = await request(t.app).get('/openapi/maubot.yaml');
    expect(spec.headers['content-type']).toMatch(/yaml/);
    expect(spec.text).toContain('/_matrix/maubot/v1');
  });

  it('when a request carries X-Request-Id, then it is echoed; otherwise one is made', async () => {
    const given = await request(t.app).get('/health').set('X-Request-Id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await request(t.app).get('/health');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    const next = await request(t.app).get('/health');
    expect(next.headers['x-request-id']).not.toBe(made.headers['x-request-id']);
  });

  it('when a path belongs to nothing, then a JSON 404', async () => {
    const res = await request(t.app).get('/nothing/here');
    expectAnswer(res, 404, { error: 'Not found' });
  });

  describe('HTML pages', () => {
    function expectPageHeaders(res: request.Response): string {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      return csp;
    }

    it('when /docs is served, then it may not be framed, sniffed or leak its address', async () => {
      const page = await request(t.app).get('/docs/');
      expect(page.status).toBe(200);
      const csp = expectPageHeaders(page);
      // Swagger UI's own files only: no inline or foreign scripts.
      expect(csp).toContain("script-src 'self'");
      expectPageHeaders(await request(t.app).get('/docs/swagger-ui-init.js'));
      expectPageHeaders(await request(t.app).get('/openapi/maubot.yaml'));
    });

    it('when an OAuth result page is served, then nothing may load in it', async () => {
      const page = await request(t.app).get('/jira/oauth').query({ state: 'x', code: 'y' });
      expect(page.headers['content-type']).toMatch(/html/);
      const csp = expectPageHeaders(page);
      expect(csp).toContain("default-src 'none'");
    });

    it('when the maubot UI is served, then it may not be framed or sniffed', async () => {
      const csp = expectPageHeaders(await request(t.app).get('/_matrix/maubot/'));
      // Its scripts are its own build's business: only framing is restricted.
      expect(csp).not.toContain('script-src');
    });
  });
});

describe('access log', () => {
  it('when requests are answered, then one line each, without the query, at a level by status', async () => {
    const logs = captureLogs('debug');
    const t = await createTestApp('embedded', { logger: logs.logger });
    try {
      await request(t.app).get('/health').set('X-Request-Id', 'req-1');
      await request(t.app).get('/_matrix/maubot/v1/version?access_token=secret-token-value');
      const lines = logs.lines.filter((l) => l.reqId !== undefined);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 20,
          reqId: 'req-1',
          method: 'GET',
          path: '/health',
          status: 200,
        }),
        expect.objectContaining({
          level: 30,
          method: 'GET',
          path: '/_matrix/maubot/v1/version',
          status: 401,
        }),
      ]);
      expect(typeof lines[0]!.ms).toBe('number');
      // The message alone (all the web UI's log viewer and `mbc logs` show) carries them too.
      expect(lines.map((l) => l.msg)).toEqual([
        `GET /health 200 ${String(lines[0]!.ms)} ms`,
        `GET /_matrix/maubot/v1/version 401 ${String(lines[1]!.ms)} ms`,
      ]);
      expect(logs.text()).not.toContain('secret-token-value');
    } finally {
      await t.close();
    }
  });
});

describe('listener resources', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('embedded', { resources: ['provisioning'] });
  });
  afterAll(() => t.close());

  it('when a listener serves only provisioning, then maubot, docs and metrics are absent', async () => {
    expect((await request(t.app).get('/v1/health')).status).toBe(200);
    expect((await request(t.app).get('/_matrix/maubot/v1/features')).status).toBe(404);
    expect((await request(t.app).get('/_matrix/maubot/paths.json')).status).toBe(404);
    expect((await request(t.app).get('/docs/')).status).toBe(404);
    expect((await request(t.app).get('/metrics')).status).toBe(404);
    expect((await request(t.app).get('/health')).status).toBe(200);
  });
});
