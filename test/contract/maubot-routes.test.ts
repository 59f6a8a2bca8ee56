import request from 'supertest';
import { loadSpec } from '../../src/http/openapi';
import { createTestApp, type TestApp } from '../helpers/app';
import { testDatabaseKinds } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';
const NOT_FOUND = { error: 'Resource not found', errcode: 'resource_not_found' };
const MISSING = { error: 'Authorization token missing', errcode: 'auth_token_missing' };
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const SAMPLE_PARAMS: Record<string, string> = {
  id: 'sample',
  server: 'sample',
  table: 'sample',
  path: '_matrix/client/versions',
};

/** Every route of the maubot spec, with its path parameters filled in. */
function routes(): { template: string; path: string; methods: string[] }[] {
  const paths = loadSpec('maubot').paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths).map(([template, item]) => ({
    template,
    path: template.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE_PARAMS[name]!),
    methods: METHODS.filter((m) => m in item),
  }));
}

const ALL = routes();
const GET_ROUTES = ALL.filter(
  (r) => r.methods.includes('get') && !r.template.startsWith('/proxy/'),
);
const NO_GET = ALL.filter((r) => !r.methods.includes('get'));

describe.each(testDatabaseKinds())('maubot routes, as aiohttp matches them (%s)', (kind) => {
  let t: TestApp;
  const logs = captureLogs('debug');
  beforeAll(async () => {
    t = await createTestApp(kind, { logger: logs.logger });
  });
  afterAll(() => t.close());

  const send = (method: string, path: string) => {
    const agent = request(t.app);
    return agent[method as 'get'](API + path).set('Authorization', `Bearer ${t.token}`);
  };

  it('the spec has the routes this test walks', () => {
    expect(GET_ROUTES.map((r) => r.template)).toEqual(
      expect.arrayContaining(['/plugins', '/features', '/logs', '/client/{id}']),
    );
    expect(GET_ROUTES.length).toBeGreaterThanOrEqual(14);
  });

  describe('HEAD', () => {
    it.each(GET_ROUTES.map((r) => [r.path]))(
      'when HEAD %s, then the GET answer without its body',
      async (path) => {
        const get = await send('get', path);
        const head = await send('head', path);
        expect(head.status).toBe(get.status);
        expect(head.headers['content-type']).toBe(get.headers['content-type']);
        expect(head.headers['content-length']).toBe(get.headers['content-length']);
        expect(head.text ?? '').toBe('');
      },
    );

    it('when HEAD /plugins, then 200 like GET, logged as HEAD', async () => {
      const head = await send('head', '/plugins').set('X-Request-Id', 'head-plugins');
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('2');
      expect(logs.lines.filter((l) => l.reqId === 'head-plugins')).toEqual([
        expect.objectContaining({ method: 'HEAD', path: `${API}/plugins`, status: 200 }),
      ]);
    });

    it.each(NO_GET.map((r) => [r.path]))(
      'when HEAD %s (a route without GET), then 405',
      async (path) => {
        const head = await send('head', path);
        expect(head.status).toBe(405);
        expect(head.headers.allow).not.toContain('GET');
      },
    );

    it('when HEAD carries no token on a protected route, then 401 as for GET', async () => {
      const head = await request(t.app).head(`${API}/plugins`);
      expect(head.status).toBe(401);
    });
  });

  describe('trailing slashes', () => {
    it.each(
      ALL.filter((r) => !r.template.startsWith('/proxy/')).flatMap((r) =>
        r.methods.map((m) => [m.toUpperCase(), `${r.path}/`]),
      ),
    )('when %s %s, then 404 resource_not_found', async (method, path) => {
      const res = await send(method.toLowerCase(), path).send({});
      expectAnswer(res, 404, NOT_FOUND);
    });

    it('when GET /plugins/ comes without a token, then 401 (the token is checked first)', async () => {
      const res = await request(t.app).get(`${API}/plugins/`);
      expectAnswer(res, 401, MISSING);
    });

    it('when GET /features/ comes without a token, then 401: only /features itself is open', async () => {
      const res = await request(t.app).get(`${API}/features/`);
      expectAnswer(res, 401, MISSING);
    });

    it('when the proxied path ends with a slash, then it still reaches the proxy', async () => {
      const res = await send('get', '/proxy/@nobody:example.org/_matrix/client/versions/');
      expectAnswer(res, 404, { error: 'Client not found', errcode: 'client_not_found' });
    });
  });
});
