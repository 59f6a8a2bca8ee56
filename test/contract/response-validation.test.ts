import express from 'express';
import request from 'supertest';
import { maubotErrorHandler } from '../../src/api/maubot/error-middleware';
import { provisioningErrorHandler } from '../../src/api/provisioning/error-middleware';
import { loadSpec, openApiValidator } from '../../src/http/openapi';
import { captureLogs } from '../helpers/log-capture';
import { expectAnswer } from '../helpers/answers';

/** The routers' own validator and error middleware around a handler that breaks the contract. */
function appWithWrongHandler(api: 'maubot' | 'provisioning', mode: 'fail' | 'log') {
  const logs = captureLogs();
  const base = api === 'maubot' ? '/_matrix/maubot/v1' : '/v1';
  const path = api === 'maubot' ? '/version' : '/health';
  const router = express.Router();
  router.use(
    openApiValidator({ spec: loadSpec(api), responseValidation: mode, logger: logs.logger }),
  );
  router.get(path, (_req, res) => {
    res.json(api === 'maubot' ? { version: 6 } : []);
  });
  router.use(
    api === 'maubot' ? maubotErrorHandler(logs.logger) : provisioningErrorHandler(logs.logger),
  );
  const app = express();
  app.use(base, router);
  return { app, logs, url: `${base}${path}` };
}

describe('response validation', () => {
  it('when a maubot handler returns the wrong shape, then 500 internal_server_error and a log line', async () => {
    const { app, logs, url } = appWithWrongHandler('maubot', 'fail');
    const res = await request(app).get(url);
    expectAnswer(res, 500, { error: 'Internal server error', errcode: 'internal_server_error' });
    expect(logs.lines.some((l) => l.msg === 'response does not match the API contract')).toBe(true);
  });

  it('when a provisioning handler returns the wrong shape, then 500 HS_UNKNOWN', async () => {
    const { app, url } = appWithWrongHandler('provisioning', 'fail');
    const res = await request(app).get(url);
    expectAnswer(res, 500, { errcode: 'HS_UNKNOWN', error: 'An internal error occurred' });
  });

  it('when configured to log, then the response is sent unchanged and the drift is logged', async () => {
    const { app, logs, url } = appWithWrongHandler('maubot', 'log');
    const res = await request(app).get(url);
    expectAnswer(res, 200, { version: 6 });
    const line = logs.lines.find((l) => l.msg === 'response does not match the API contract');
    expect(line).toMatchObject({ level: 50, method: 'GET', path: url });
  });
});
