import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_SECRET, testConfig } from '../helpers/config';
import { captureLogs } from '../helpers/log-capture';

/** An app of this describe block whose request lines are captured at debug. */
function loggedApp(overrides: Parameters<typeof testConfig>[0]) {
  let t: TestApp | undefined;
  const logs = captureLogs('debug');
  beforeAll(async () => {
    t = await createTestApp('embedded', {
      logger: logs.logger,
      config: testConfig({ logging: { level: 'debug' }, ...overrides }),
    });
  });
  afterAll(() => t!.close());
  return {
    logs,
    app: () => t!.app,
    lastLine: () => logs.lines.filter((l) => l.reqId !== undefined).at(-1)!,
  };
}

/** Secrets in URLs never reach a log line: hook ids, SSO session ids, access_token queries. */
describe('access log', () => {
  const { logs, app, lastLine } = loggedApp({
    webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' },
  });

  it.each([
    ['post', '/webhook/SECRETHOOKa1b2c3', '/webhook/[redacted]'],
    ['get', '/WEBHOOK/SECRETHOOKd4e5f6/', '/WEBHOOK/[redacted]'],
    ['put', '/webhook/SECRETHOOK%2Fslash?x=1', '/webhook/[redacted]'],
    [
      'get',
      '/_matrix/maubot/v1/client/auth_external_sso/complete/SECRETSSO0001?loginToken=SECRETLOGIN',
      '/_matrix/maubot/v1/client/auth_external_sso/complete/[redacted]',
    ],
    ['get', '/_matrix/maubot/v1/plugins?access_token=SECRETTOKEN', '/_matrix/maubot/v1/plugins'],
  ] as const)('when %s %s is answered, then the line says %s', async (method, url, logged) => {
    await request(app())[method](url).send({ text: 'hello' });
    expect(lastLine().path).toBe(logged);
    expect(logs.text()).not.toMatch(/SECRET/);
  });

  it('when a request comes with X-Forwarded-For from an untrusted peer, then the line has the peer address', async () => {
    await request(app()).get('/health').set('X-Forwarded-For', '203.0.113.5');
    expect(lastLine().path).toBe('/health');
    expect(lastLine().address).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });
});

describe('access log behind a trusted proxy', () => {
  const { app, lastLine } = loggedApp({
    server: { unsharedSecret: TEST_SECRET, trustedProxies: ['loopback'] },
  });

  it('when the proxy forwards a client address, then the line has it', async () => {
    await request(app()).get('/health').set('X-Forwarded-For', '198.51.100.1, 203.0.113.5');
    expect(lastLine()).toMatchObject({ path: '/health', status: 200, address: '203.0.113.5' });
  });
});
