import request from 'supertest';
import { loadSpec, type ApiName } from '../../src/http/openapi';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_PROVISIONING_SECRET, testConfig } from '../helpers/config';

/**
 * Every operation of both specs, sent bodies no client should send: whatever it answers must
 * be a status its operation declares.
 */
interface Operation {
  api: ApiName;
  method: string;
  path: string;
  declared: Set<string>;
}

const BASES: Record<ApiName, string> = { maubot: '/_matrix/maubot/v1', provisioning: '/v1' };
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

function operations(api: ApiName): Operation[] {
  const spec = loadSpec(api) as {
    paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    // The proxy passes anything through to the homeserver; the websocket is tested on its own.
    if (path.startsWith('/proxy/')) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      out.push({ api, method, path, declared: new Set(Object.keys(op.responses ?? {})) });
    }
  }
  return out;
}

function concrete(path: string): string {
  return path
    .replace('{roomId}', encodeURIComponent('!room:example.org'))
    .replace(/\{[^}]+\}/g, 'probe');
}

const HOSTILE_BODIES: [string, (r: request.Test) => request.Test][] = [
  ['a text body that is not JSON', (r) => r.set('Content-Type', 'text/plain').send('x')],
  ['a zip content type', (r) => r.set('Content-Type', 'application/zip').send('x')],
  ['an XML content type', (r) => r.set('Content-Type', 'application/xml').send('<x/>')],
  ['a JSON array', (r) => r.set('Content-Type', 'application/json').send('[1]')],
  ['an empty body with a JSON content type', (r) => r.set('Content-Type', 'application/json')],
  [
    'an unknown content encoding',
    (r) =>
      r.set('Content-Type', 'application/json').set('Content-Encoding', 'x-unknown').send('{}'),
  ],
  [
    'a 2 MiB body',
    (r) => r.set('Content-Type', 'application/json').send(`"${'a'.repeat(2 * 1024 * 1024)}"`),
  ],
];

describe('statuses answered to hostile bodies are declared', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('embedded', {
      config: testConfig({ webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } }),
    });
  });
  afterAll(() => t.close());

  const all = [...operations('maubot'), ...operations('provisioning')];
  const cases = all.flatMap((op) =>
    HOSTILE_BODIES.map(([name, send]) => [op, name, send] as const),
  );

  it.each(cases)('$0.method $0.path: %s', async (op, _name, send) => {
    const url = `${BASES[op.api]}${concrete(op.path)}`;
    const query = op.api === 'provisioning' ? '?userId=%40admin%3Aexample.org' : '';
    let r = (request(t.app) as unknown as Record<string, (u: string) => request.Test>)[op.method]!(
      url + query,
    );
    r = r.set(
      'Authorization',
      `Bearer ${op.api === 'maubot' ? t.token : TEST_PROVISIONING_SECRET}`,
    );
    const res = await send(r);
    expect({ op: `${op.method} ${op.path}`, status: String(res.status) }).toEqual({
      op: `${op.method} ${op.path}`,
      status: op.declared.has(String(res.status)) ? String(res.status) : 'declared',
    });
  });

  it.each(['maubot', 'provisioning'] as const)(
    'when a %s path is longer than the header limit, then 431 (declared)',
    async (api) => {
      const op = operations(api).find((o) => o.method === 'get')!;
      const url = `${BASES[api]}${concrete(op.path)}?pad=${'x'.repeat(20_000)}`;
      const res = await request(t.app).get(url);
      expect(res.status).toBe(431);
      expect(op.declared.has('431')).toBe(true);
    },
  );
});

describe('statuses the server cannot answer are not declared, and 405 lists what is served', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('embedded', {
      config: testConfig({ webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } }),
    });
  });
  afterAll(() => t.close());

  const auth = (api: ApiName) => `Bearer ${api === 'maubot' ? t.token : TEST_PROVISIONING_SECRET}`;
  const send = (method: string, url: string) =>
    (request(t.app) as unknown as Record<string, (u: string) => request.Test>)[
      method.toLowerCase()
    ]!(url);

  it.each([
    ['put', 'application/xml', '<x/>'],
    ['patch', 'text/plain', '{"name":"x"}'],
    ['put', 'multipart/form-data; boundary=x', '--x--\r\n'],
    ['patch', 'application/x-www-form-urlencoded', 'name=x'],
  ])(
    'when provisioning %s gets a %s body, then it is read as JSON (400, never 415, as hookshot never answers 415)',
    async (method, type, body) => {
      const res = await send(
        method,
        `/v1/${encodeURIComponent('!room:example.org')}/connections/uk.half-shot.matrix-hookshot.generic.hook?userId=%40admin%3Aexample.org`,
      )
        .set('Authorization', auth('provisioning'))
        .set('Content-Type', type)
        .send(body);
      expect(res.status).not.toBe(415);
      expect(
        operations('provisioning')
          .filter((op) => op.declared.has('415'))
          .map((op) => op.path),
      ).toEqual([]);
    },
  );

  const paths = (api: ApiName) => {
    const spec = loadSpec(api) as { paths: Record<string, Record<string, unknown>> };
    return Object.entries(spec.paths)
      .filter(([path]) => !path.startsWith('/proxy/'))
      .map(([path, item]) => ({
        api,
        path,
        methods: METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase()),
      }));
  };

  it.each([...paths('maubot'), ...paths('provisioning')].map((p) => [p.api, p.path, p] as const))(
    'when %s %s gets a method it does not serve, then 405 whose Allow lists exactly what it serves (HEAD with GET)',
    async (_api, _path, { api, path, methods }) => {
      const url = `${BASES[api]}${concrete(path)}${api === 'provisioning' ? '?userId=%40admin%3Aexample.org' : ''}`;
      const unserved = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'].find((m) => !methods.includes(m))!;
      const res = await send(unserved, url).set('Authorization', auth(api));
      expect(res.status).toBe(405);
      const expected = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
      const allow = String(res.headers.allow).split(', ');
      expect([...allow].sort()).toEqual([...expected].sort());
      for (const method of allow) {
        const served = await send(method, url).set('Authorization', auth(api));
        expect({ method, status: served.status }).not.toEqual({ method, status: 405 });
      }
    },
  );

  it('when a hook gets a method it does not serve, then 405 with an Allow of what it serves', async () => {
    const del = await request(t.app).delete('/webhook/some-hook');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('PUT, POST');
    const get = await request(t.app).get('/webhook/some-hook');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('PUT, POST');
  });
});
