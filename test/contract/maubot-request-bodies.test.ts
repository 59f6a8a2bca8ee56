import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/app';
import { testConfig } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';
const BODY_NOT_JSON = { errcode: 'body_not_json', error: 'Request body is not JSON' };

/**
 * Bodies maubot cannot read as a JSON object get its 400 `body_not_json`, whatever the
 * Content-Type says (maubot never looks at it), after the checks maubot makes first.
 */
describe.each(testDatabaseKinds())('maubot request bodies (%s database)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, {
      config: testConfig({ homeservers: { known: { url: 'http://127.0.0.1:9', secret: 's' } } }),
    });
  });
  afterAll(() => t.close());

  const auth = () => ({ Authorization: `Bearer ${t.token}` });

  it.each([
    ['no body and no content type', (r: request.Test) => r],
    ['an empty text/plain body', (r: request.Test) => r.set('Content-Type', 'text/plain').send('')],
    ['an empty JSON body', (r: request.Test) => r.set('Content-Type', 'application/json')],
  ])('when POST /auth/login has %s, then 400 body_not_json', async (_name, send) => {
    const res = await send(request(t.app).post(`${API}/auth/login`));
    expectAnswer(res, 400, BODY_NOT_JSON);
  });

  it.each([
    ['put', '/instance/probe'],
    ['post', '/client/new'],
    ['put', '/client/@probe:example.org'],
    ['post', '/client/auth/known/login'],
    ['post', '/client/auth/known/register'],
  ] as const)(
    'when %s %s has an empty body with Content-Type application/json, then 400 body_not_json',
    async (method, path) => {
      const agent = request(t.app);
      const call = () => agent[method](API + path).set(auth());
      const res = await call().set('Content-Type', 'application/json');
      expectAnswer(res, 400, BODY_NOT_JSON);
      const none = await call();
      expectAnswer(none, 400, BODY_NOT_JSON);
    },
  );

  it.each(['login', 'register'])(
    'when /client/auth/{server}/%s names an unknown server with no body, then 404 server_not_found first',
    async (op) => {
      const res = await request(t.app).post(`${API}/client/auth/unknown/${op}`).set(auth());
      expectAnswer(res, 404, {
        errcode: 'server_not_found',
        error: 'Registration target server not found',
      });
    },
  );

  it('when a body comes on an operation that takes none, then it is ignored', async () => {
    const res = await request(t.app)
      .get(`${API}/plugins`)
      .set(auth())
      .set('Content-Type', 'application/xml')
      .send('<not-json/>');
    expectAnswer(res, 200, []);
  });

  it('when a path id holds a NUL byte, then 404, not 500', async () => {
    for (const path of ['/plugin/a%00b', '/instance/a%00b', '/client/@a%00b:x']) {
      const res = await request(t.app)
        .get(API + path)
        .set(auth());
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  });

  it.each(['%ED%A0%80', '%zz', '%C0%AE', 'a%'])(
    'when a path id has an escape that is not UTF-8 (%s), then 404 resource_not_found on every method, not an undeclared 400',
    async (id) => {
      for (const [method, path] of [
        ['get', `/plugin/${id}`],
        ['head', `/plugin/${id}`],
        ['delete', `/instance/${id}`],
        ['post', `/client/${id}/clearcache`],
        ['get', `/instance/${id}/database`],
      ] as const) {
        const agent = request(t.app);
        const res = await agent[method](API + path).set(auth());
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
        if (method !== 'head') expect(res.body.errcode).toBe('resource_not_found');
      }
    },
  );
});
