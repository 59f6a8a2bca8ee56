import express from 'express';
import request from 'supertest';
import { answersAs, ingressErrorHandler } from '../../src/api/ingress/error-middleware';
import { IngressError } from '../../src/api/ingress/errors';
import { expectAnswer } from '../helpers/answers';
import { captureLogs } from '../helpers/log-capture';

/** The listener's one error middleware: each error in its route's shape, unexpected ones logged. */
describe('ingressErrorHandler', () => {
  const logs = captureLogs();
  const app = express();
  const fail = (err: unknown) => () => {
    throw err;
  };
  app.post('/hook', answersAs('hook', 2048), express.json({ limit: 2048 }), fail(new Error('x')));
  app.get('/hook-busy', answersAs('hook'), (_req, _res) => {
    throw new IngressError(503, 'busy', { headers: { 'Retry-After': '5' } });
  });
  app.get('/page', answersAs('githubPage'), fail(new Error('database down')));
  app.get('/jira-page', answersAs('errcode'), () => {
    throw new IngressError(403, 'Not permitted.', { shape: 'jiraPage' });
  });
  app.get('/elsewhere', fail(Object.assign(new Error('bad path'), { status: 400 })));
  app.get('/late', (_req, res) => {
    res.write('partial');
    throw new Error('after the answer began');
  });
  app.use(ingressErrorHandler(logs.logger));

  it('when a hook body is over the limit then 413 names the limit in the hook shape', async () => {
    const res = await request(app)
      .post('/hook')
      .set('content-type', 'application/json')
      .send(`"${'a'.repeat(3000)}"`);
    expectAnswer(res, 413, { ok: false, error: 'Body exceeds the limit of 2048 bytes' });
  });

  it('when a hook body is malformed then 400 in the hook shape; an unexpected error 500, logged once', async () => {
    const bad = await request(app).post('/hook').set('content-type', 'application/json').send('{');
    expectAnswer(bad, 400, { ok: false, error: 'Could not parse the request body' });
    const before = logs.lines.length;
    const res = await request(app).post('/hook').set('content-type', 'application/json').send('{}');
    expectAnswer(res, 500, { ok: false, error: 'Failed to handle webhook' });
    expect(logs.lines.slice(before)).toMatchObject([
      { level: 50, msg: 'unhandled error', path: '/hook' },
    ]);
  });

  it('when an IngressError carries headers then they are sent with its answer', async () => {
    const res = await request(app).get('/hook-busy');
    expectAnswer(res, 503, { ok: false, error: 'busy' });
    expect(res.headers['retry-after']).toBe('5');
  });

  it('when a page route fails then the browser gets an HTML page, escaped, never a stack', async () => {
    const res = await request(app).get('/page');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Failed to handle oauth request');
    expect(res.text).not.toContain('database down');
    const jira = await request(app).get('/jira-page');
    expect(jira.status).toBe(403);
    expect(jira.text).toBe('<p>Not permitted.</p>');
  });

  it('when a route outside the ingress fails with a 4xx then its status and the status text, as JSON', async () => {
    const res = await request(app).get('/elsewhere');
    expectAnswer(res, 400, { errcode: 'HS_BAD_VALUE', error: 'Bad Request' });
  });

  it('when the answer had begun then the error is logged and the answer ended', async () => {
    const res = await request(app).get('/late');
    expect(res.text).toBe('partial');
    expect(logs.lines.at(-1)).toMatchObject({ msg: 'error after the answer began', path: '/late' });
  });
});
