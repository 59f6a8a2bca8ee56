import express from 'express';
import request from 'supertest';
import type { StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import { TransformationRunner } from '../../src/webhooks/transformation';
import { WebhookHooks } from '../../src/webhooks/webhook-hooks';
import { WebhookDelivery } from '../../src/webhooks/webhook-delivery';
import { webhookRoutes } from '../../src/api/ingress/handlers/webhooks';
import { ingressErrorHandler } from '../../src/api/ingress/error-middleware';
import { accessLog } from '../../src/http/access-log';
import { createMetrics } from '../../src/http/metrics';
import { MAX_PAYLOAD_DEPTH } from '../../src/webhooks/webhook-delivery';
import { WebhookKind } from '../../src/webhooks/webhook-kind';
import { testConfig } from '../helpers/config';
import { TEST_TRANSFORMATION_LIMITS } from '../helpers/transformation-limits';
import { openTestDatabase } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import { RecordingMessenger } from '../fakes/recording-messenger';
import { seedConnection } from '../helpers/connection-rows';
import { expectAnswer } from '../helpers/answers';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');

/** The access log's line of the last request answered with `status`. */
function requestLine(logs: ReturnType<typeof captureLogs>, status: number) {
  return logs.lines.filter((l) => l.reqId !== undefined && l.status === status).at(-1);
}
const ROOM = '!room:switchboard.test';
const ALICE = '@alice:switchboard.test';

describe('webhook ingress', () => {
  let db: Database;
  let runner: TransformationRunner;
  let seq = 0;

  beforeAll(async () => {
    db = await openTestDatabase('embedded');
    runner = await TransformationRunner.create(TEST_TRANSFORMATION_LIMITS);
  });
  afterAll(async () => {
    await runner.close();
    await db.close();
  });
  // Hooks of one room may not share a name; each test starts without any.
  beforeEach(async () => {
    await db.knex('connection').delete();
  });

  function setup(webhooks: Record<string, unknown> = {}, transformations = runner) {
    const config = testConfig({
      webhooks: {
        urlPrefix: 'https://hooks.example.org/webhook/',
        allowJsTransformationFunctions: true,
        maxBodyBytes: 2048,
        ...webhooks,
      },
    });
    const hooks = new WebhookHooks();
    const messenger = new RecordingMessenger();
    const connections = new Map<string, StoredConnection>();
    const logs = captureLogs();
    const kind = new WebhookKind({
      config,
      db: db.knex,
      runner: transformations,
      hooks,
      now: () => NOW,
    });
    const app = express();
    const delivery = new WebhookDelivery({
      settings: config.webhooks!,
      logger: logs.logger,
      hooks,
      connection: (id) => connections.get(id),
      messenger,
      runner: transformations,
      now: () => NOW,
    });
    app.use(accessLog(logs.logger, createMetrics()));
    app.use(webhookRoutes(delivery, config.webhooks!.maxBodyBytes));
    app.use(ingressErrorHandler(logs.logger));

    /** Provisions a hook the way the connection service does; answers its hook id. */
    async function provision(body: Record<string, unknown>): Promise<string> {
      const prepared = await kind.create({ roomId: ROOM, userId: ALICE, body, existing: [] });
      const id = `conn-${++seq}`;
      let conn!: StoredConnection;
      await db.knex.transaction(async (trx) => {
        conn = await seedConnection(trx, {
          id,
          roomId: ROOM,
          stateKey: prepared.stateKey,
          config: prepared.config,
          createdBy: ALICE,
        });
        await kind.persist(trx, conn);
      });
      connections.set(id, conn);
      kind.committed(conn);
      const secrets = await kind.secrets(conn);
      return String(secrets.shown?.hookId);
    }

    return { app, messenger, provision, logs, connections, kind };
  }

  it('when "Hello world" is PUT with waitForComplete then 200 and the reference notice', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({ name: 'test', waitForComplete: true });
    const res = await request(app)
      .put(`/webhook/${hookId}`)
      .set('Content-Type', 'text/plain')
      .send('Hello world');
    expectAnswer(res, 200, { ok: true });
    expect(messenger.sent).toEqual([
      {
        roomId: ROOM,
        content: {
          msgtype: 'm.notice',
          body: 'Received webhook data: Hello world',
          formatted_body: '<p>Received webhook data: Hello world</p>',
          format: 'org.matrix.custom.html',
          'uk.half-shot.hookshot.webhook_data': 'Hello world',
        },
      },
    ]);
  });

  it('when too many messages wait for the homeserver then posts get 503 with Retry-After and nothing is queued', async () => {
    const { app, messenger, provision, logs } = setup({ maxPendingMessages: 3 });
    const hookId = await provision({ name: 'test' });
    messenger.backlog = 3;
    const res = await request(app).post(`/webhook/${hookId}`).send({ text: 'dropped' });
    expect(res.status).toBe(503);
    // Shedding load is meant: a warning, not an error senders could fill the log with.
    expect(requestLine(logs, 503)).toMatchObject({ level: 40, path: '/webhook/[redacted]' });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toEqual({
      ok: false,
      error: 'Too many messages are waiting to be sent; try again later',
    });
    messenger.backlog = 2;
    const accepted = await request(app).post(`/webhook/${hookId}`).send({ text: 'taken' });
    expect(accepted.status).toBe(202);
    await waitFor(() => messenger.sent.length === 1);
    expect(messenger.sent.map((s) => s.content.body)).toEqual(['taken']);
  });

  it('when posted without waitForComplete then 202 at once and the message follows', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({ name: 'test' });
    const res = await request(app).post(`/webhook/${hookId}`).send({ text: 'deployed' });
    expectAnswer(res, 202, { ok: true });
    await waitFor(() => messenger.sent.length === 1);
    expect(messenger.sent[0]?.content.body).toBe('deployed');
  });

  it('when the global waitForComplete is on then a plain hook answers 200', async () => {
    const { app, messenger, provision } = setup({ waitForComplete: true });
    const hookId = await provision({ name: 'test' });
    const res = await request(app)
      .post(`/webhook/${hookId}`)
      .type('form')
      .send({ text: 'from a form' });
    expect(res.status).toBe(200);
    expect(messenger.sent[0]?.content.body).toBe('from a form');
  });

  it('when the hook is unknown then 404 Webhook not found', async () => {
    const { app, messenger } = setup();
    const res = await request(app).post('/webhook/00000000-0000-4000-8000-000000000000').send({});
    expectAnswer(res, 404, { ok: false, error: 'Webhook not found' });
    expect(messenger.sent).toEqual([]);
  });

  it('when the hook has expired then 404 in both modes and nothing is posted', async () => {
    const { app, messenger, provision, connections } = setup();
    const fast = await provision({ name: 'fast' });
    const waiting = await provision({ name: 'waiting', waitForComplete: true });
    for (const conn of connections.values()) {
      conn.config = { ...conn.config, expirationDate: new Date(NOW - 1).toISOString() };
    }
    for (const hookId of [fast, waiting]) {
      const res = await request(app).post(`/webhook/${hookId}`).send({ text: 'late' });
      expectAnswer(res, 404, { ok: false, error: 'This hook has expired' });
    }
    expect(messenger.sent).toEqual([]);
  });

  it('when GET is not enabled then 405 PUT or POST; other methods name GET too', async () => {
    const { app, provision } = setup();
    const hookId = await provision({ name: 'test' });
    const get = await request(app).get(`/webhook/${hookId}`);
    expectAnswer(get, 405, {
      errcode: 'HS_METHOD_NOT_ALLOWED',
      error: 'Invalid Method. Expecting PUT or POST',
    });
    const del = await request(app).delete(`/webhook/${hookId}`);
    expectAnswer(del, 405, {
      errcode: 'HS_METHOD_NOT_ALLOWED',
      error: 'Invalid Method. Expecting PUT, GET or POST',
    });
  });

  it('when GET is enabled then the query string is the payload', async () => {
    const { app, messenger, provision } = setup({ enableHttpGet: true });
    const hookId = await provision({ name: 'test', waitForComplete: true });
    const res = await request(app).get(`/webhook/${hookId}?text=via%20get`);
    expect(res.status).toBe(200);
    expect(messenger.sent[0]?.content).toMatchObject({
      body: 'via get',
      'uk.half-shot.hookshot.webhook_data': { text: 'via get' },
    });
  });

  it('when the JSON is invalid then 400, and over the body limit then 413', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({ name: 'test' });
    const invalid = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/json')
      .send('{"broken":');
    expectAnswer(invalid, 400, { ok: false, error: 'Could not parse the request body' });
    const big = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'text/plain')
      .send('x'.repeat(4096));
    expectAnswer(big, 413, { ok: false, error: 'Body exceeds the limit of 2048 bytes' });
    expect(messenger.sent).toEqual([]);
  });

  it('when a body nests deeper than the limit then 400 and nothing is posted; at the limit it is posted', async () => {
    const { app, messenger, provision, logs } = setup({ maxBodyBytes: 1_048_576 });
    const hookId = await provision({ name: 'test', waitForComplete: true });
    // Far deeper than JSON.stringify can walk: this used to crash the delivery with a 500.
    const deep = '['.repeat(50_000) + ']'.repeat(50_000);
    const refused = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/json')
      .send(deep);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      ok: false,
      error: `Body nests deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    });
    const justOver =
      '{"a":'.repeat(MAX_PAYLOAD_DEPTH + 1) + '1' + '}'.repeat(MAX_PAYLOAD_DEPTH + 1);
    const over = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/json')
      .send(justOver);
    expect(over.status).toBe(400);
    expect(messenger.sent).toEqual([]);
    const atLimit = '{"a":'.repeat(MAX_PAYLOAD_DEPTH) + '1' + '}'.repeat(MAX_PAYLOAD_DEPTH);
    const taken = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/json')
      .send(atLimit);
    expect(taken.status).toBe(200);
    expect(messenger.sent).toHaveLength(1);
    expect(logs.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('when a megabyte of nested markdown is posted then the notice is its text without HTML, and the next post is answered', async () => {
    const { app, messenger, provision } = setup({ maxBodyBytes: 2 * 1_048_576 });
    const hookId = await provision({ name: 'test', waitForComplete: true });
    const text = '[[[[>>>>*_*_'.repeat(1_048_576 / 12);
    const res = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/json')
      .send({ text });
    expect(res.status).toBe(200);
    expect(messenger.sent).toHaveLength(1);
    const content = messenger.sent[0]!.content;
    expect(content.body).toBe(text);
    expect(content).not.toHaveProperty('formatted_body');
    expect(content).not.toHaveProperty('format');
    const next = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/json')
      .send({ text: '**short**' });
    expect(next.status).toBe(200);
    expect(messenger.sent[1]!.content.formatted_body).toBe('<p><strong>short</strong></p>');
  });

  it('when XML is posted then it is parsed as hookshot parses it (xml2js defaults)', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({ name: 'test', waitForComplete: true });
    const xml = '<alert severity="high"><name>disk</name><tag>a</tag><tag>b</tag></alert>';
    const parsed = { alert: { $: { severity: 'high' }, name: ['disk'], tag: ['a', 'b'] } };
    for (const type of ['application/atom+xml', 'text/xml', 'application/xml']) {
      const res = await request(app).post(`/webhook/${hookId}`).set('Content-Type', type).send(xml);
      expect(res.status).toBe(200);
    }
    expect(messenger.sent).toHaveLength(3);
    for (const { content } of messenger.sent) {
      expect(content['uk.half-shot.hookshot.webhook_data']).toEqual(parsed);
      expect(content.body).toBe(
        `Received webhook data:\n\n\`\`\`json\n${JSON.stringify(parsed, null, 2)}\n\`\`\``,
      );
    }
  });

  it('when XML is posted to a transformation then the function sees the parsed document', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({
      name: 'test',
      waitForComplete: true,
      transformationFunction: `result = {version: "v2", plain: data.alert.name[0] + " is " + data.alert.$.severity}`,
    });
    const res = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/xml')
      .send('<alert severity="high"><name>disk</name></alert>');
    expect(res.status).toBe(200);
    expect(messenger.sent[0]?.content.body).toBe('disk is high');
  });

  it('when the XML is malformed then 400 and nothing is posted; element names cannot pollute prototypes', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({ name: 'test', waitForComplete: true });
    const bad = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/xml')
      .send('<a><b></a>');
    expectAnswer(bad, 400, { ok: false, error: 'Could not parse the request body' });
    expect(messenger.sent).toEqual([]);
    const sneaky = await request(app)
      .post(`/webhook/${hookId}`)
      .set('Content-Type', 'application/xml')
      .send('<__proto__><polluted>yes</polluted></__proto__>');
    expect(sneaky.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(messenger.sent[0]?.content['uk.half-shot.hookshot.webhook_data']).toEqual({
      __proto__: { polluted: ['yes'] },
    });
  });

  it('when a hook or the server says includeHookBody: false then notices leave the payload out', async () => {
    const body = (content: Record<string, unknown>) =>
      'uk.half-shot.hookshot.webhook_data' in content ? 'with payload' : 'without';
    const post = async (app: express.Express, hookId: string) =>
      request(app).post(`/webhook/${hookId}`).send({ text: 'hi' }).expect(202);

    const perHook = setup();
    const off = await perHook.provision({ name: 'off', includeHookBody: false });
    const on = await perHook.provision({ name: 'always-on' });
    const transformed = await perHook.provision({
      name: 'with-fn',
      includeHookBody: false,
      transformationFunction: 'result = {version: "v2", plain: "from fn"}',
    });
    for (const hookId of [off, on, transformed]) await post(perHook.app, hookId);
    await waitFor(() => perHook.messenger.sent.length === 3);
    expect(perHook.messenger.sent.map((m) => body(m.content))).toEqual([
      'without',
      'with payload',
      'without',
    ]);

    await db.knex('connection').delete();
    const serverWide = setup({ includeHookBody: false });
    const plain = await serverWide.provision({ name: 'plain' });
    const optedIn = await serverWide.provision({ name: 'opted-in', includeHookBody: true });
    for (const hookId of [plain, optedIn]) await post(serverWide.app, hookId);
    await waitFor(() => serverWide.messenger.sent.length === 2);
    expect(serverWide.messenger.sent.map((m) => body(m.content))).toEqual([
      'without',
      'with payload',
    ]);
  });

  it('when a hook says showUrlPreviews: false then its notices ask clients for no URL previews', async () => {
    const { app, messenger, provision } = setup();
    const quiet = await provision({ name: 'quiet', showUrlPreviews: false });
    const loud = await provision({ name: 'loud', showUrlPreviews: true });
    for (const hookId of [quiet, loud]) {
      await request(app).post(`/webhook/${hookId}`).send({ text: 'https://example.org' });
    }
    await waitFor(() => messenger.sent.length === 2);
    expect(messenger.sent[0]!.content['com.beeper.linkpreviews']).toEqual([]);
    expect(messenger.sent[1]!.content).not.toHaveProperty('com.beeper.linkpreviews');
  });

  it('when includeHookBody or showUrlPreviews is not a boolean then 400 HS_BAD_VALUE', async () => {
    const { provision } = setup();
    for (const key of ['includeHookBody', 'showUrlPreviews']) {
      await expect(provision({ name: 'test', [key]: 'yes' })).rejects.toMatchObject({
        errcode: 'HS_BAD_VALUE',
        message: `'${key}' must be a boolean`,
      });
    }
  });

  it('when 100 posts arrive quickly then the room gets them in order', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({ name: 'test' });
    const agent = request(app);
    for (let i = 0; i < 100; i++) {
      const res = await agent.post(`/webhook/${hookId}`).send({ text: `message ${i}` });
      expect(res.status).toBe(202);
    }
    await waitFor(() => messenger.sent.length === 100);
    expect(messenger.sent.map((s) => s.content.body)).toEqual(
      Array.from({ length: 100 }, (_, i) => `message ${i}`),
    );
  });

  it('when a transformation sets a webhookResponse then the sender gets it', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({
      name: 'test',
      waitForComplete: true,
      transformationFunction: `result = {version: "v2", plain: "alert " + data.status,
        mentions: {room: true}, webhookResponse: {body: "<ok/>", contentType: "application/xml", statusCode: 201}}`,
    });
    const res = await request(app).post(`/webhook/${hookId}`).send({ status: 'firing' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    expect(res.text).toBe('<ok/>');
    expect(messenger.sent[0]?.content).toEqual({
      msgtype: 'm.notice',
      body: 'alert firing',
      format: 'org.matrix.custom.html',
      formatted_body: '<p>alert firing</p>',
      'm.mentions': { room: true },
      'uk.half-shot.hookshot.webhook_data': { status: 'firing' },
    });
  });

  it('when a transformation sets empty then nothing is posted and the answer is 200', async () => {
    const { app, messenger, provision } = setup();
    const hookId = await provision({
      name: 'test',
      waitForComplete: true,
      transformationFunction: 'result = {version: "v2", empty: true}',
    });
    const res = await request(app).post(`/webhook/${hookId}`).send({});
    expectAnswer(res, 200, { ok: true });
    expect(messenger.sent).toEqual([]);
  });

  it('when a transformation fails then 500 and a notice in the room, in both modes', async () => {
    const { app, messenger, provision, logs } = setup();
    const waiting = await provision({
      name: 'waiting',
      waitForComplete: true,
      transformationFunction: 'while (true) {}',
    });
    const res = await request(app).post(`/webhook/${waiting}`).send({});
    expectAnswer(res, 500, { ok: false, error: 'Failed to process webhook' });
    // The hook's own function failed: the request line is no server error.
    expect(requestLine(logs, 500)).toMatchObject({ level: 30 });
    const fast = await provision({ name: 'fast', transformationFunction: 'throw new Error("x")' });
    const second = await request(app).post(`/webhook/${fast}`).send({});
    expect(second.status).toBe(202);
    await waitFor(() => messenger.sent.length === 2);
    const expected = {
      roomId: ROOM,
      content: {
        msgtype: 'm.notice',
        body: 'Webhook received but failed to process via transformation function',
      },
    };
    expect(messenger.sent).toEqual([expected, expected]);
  });

  it('when the room send fails then a waiting sender gets 500 and a quick one 202', async () => {
    const { app, messenger, provision, logs } = setup();
    messenger.fail = true;
    const waiting = await provision({ name: 'waiting', waitForComplete: true });
    const res = await request(app).post(`/webhook/${waiting}`).send({ text: 'x' });
    expectAnswer(res, 500, { ok: false, error: 'Failed to handle webhook' });
    expect(requestLine(logs, 500)).toMatchObject({ level: 50 });
    const fast = await provision({ name: 'fast' });
    expect((await request(app).post(`/webhook/${fast}`).send({ text: 'x' })).status).toBe(202);
    await waitFor(
      () => logs.lines.filter((l) => l.msg === 'could not post a webhook message').length === 2,
    );
  });

  it('when the hook is removed then its URL answers 404', async () => {
    const { app, provision, connections, kind } = setup();
    const hookId = await provision({ name: 'test' });
    const conn = [...connections.values()][0]!;
    kind.removed(conn);
    const res = await request(app).post(`/webhook/${hookId}`).send({});
    expectAnswer(res, 404, { ok: false, error: 'Webhook not found' });
  });

  describe('transformation functions', () => {
    const FAILED = {
      msgtype: 'm.notice',
      body: 'Webhook received but failed to process via transformation function',
    };

    it('when the answer comes from a transformation then it is sandboxed and not sniffed', async () => {
      const { app, provision } = setup();
      const hookId = await provision({
        name: 'test',
        waitForComplete: true,
        transformationFunction:
          'result = {version: "v2", empty: true, webhookResponse: {body: JSON.stringify({done: 1})}}',
      });
      const res = await request(app).post(`/webhook/${hookId}`).send({});
      expect(res.status).toBe(200);
      // hookshot documents application/json as the default.
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
      expect(res.text).toBe('{"done":1}');
    });

    it('when a transformation answers with HTML or a 101 then the sender gets 500 and the room a notice', async () => {
      const { app, messenger, provision } = setup();
      for (const [name, response] of [
        ['html', '{body: "<script>alert(1)</script>", contentType: "text/html"}'],
        ['switch', '{body: "x", statusCode: 101}'],
      ] as const) {
        const hookId = await provision({
          name,
          waitForComplete: true,
          transformationFunction: `result = {version: "v2", plain: "p", webhookResponse: ${response}}`,
        });
        const res = await request(app).post(`/webhook/${hookId}`).send({});
        expect(res.status).toBe(500);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.body).toEqual({ ok: false, error: 'Failed to process webhook' });
      }
      await waitFor(() => messenger.sent.length === 2);
      expect(messenger.sent.map((s) => s.content)).toEqual([FAILED, FAILED]);
    });

    it('when a function body has a top-level return then it is accepted and runs', async () => {
      const { app, messenger, provision } = setup();
      // hookshot accepts it; it used to be refused with 400 "return not in a function".
      const hookId = await provision({
        name: 'test',
        waitForComplete: true,
        transformationFunction:
          'if (!data.alerts) { result = {version: "v2", empty: true}; return; }\n' +
          'result = {version: "v2", plain: data.alerts.length + " alerts"};',
      });
      expect((await request(app).post(`/webhook/${hookId}`).send({})).status).toBe(200);
      const res = await request(app)
        .post(`/webhook/${hookId}`)
        .send({ alerts: [1, 2] });
      expectAnswer(res, 200, { ok: true });
      expect(messenger.sent).toEqual([
        {
          roomId: ROOM,
          content: {
            msgtype: 'm.notice',
            body: '2 alerts',
            format: 'org.matrix.custom.html',
            formatted_body: '<p>2 alerts</p>',
            'uk.half-shot.hookshot.webhook_data': { alerts: [1, 2] },
          },
        },
      ]);
    });

    it('when posts come quickly to a hook with a function then messages keep their order', async () => {
      const { app, messenger, provision } = setup();
      const hookId = await provision({
        name: 'test',
        transformationFunction: 'result = {version: "v2", plain: "n" + data.n}',
      });
      const agent = request.agent(app);
      for (let n = 0; n < 20; n++) {
        expect((await agent.post(`/webhook/${hookId}`).send({ n })).status).toBe(202);
      }
      await waitFor(() => messenger.sent.length === 20);
      expect(messenger.sent.map((s) => s.content.body)).toEqual(
        Array.from({ length: 20 }, (_, n) => `n${n}`),
      );
      expect(messenger.sent[19]?.content['uk.half-shot.hookshot.webhook_data']).toEqual({ n: 19 });
    });

    describe('with a hostile function', () => {
      let slow: TransformationRunner;

      beforeAll(async () => {
        slow = await TransformationRunner.create({
          ...TEST_TRANSFORMATION_LIMITS,
          timeoutMs: 3_000,
          queuePerHook: 2,
        });
      });
      afterAll(async () => {
        await slow.close();
      });

      it('when a hostile function runs then other posts are answered promptly', async () => {
        const { app, messenger, provision } = setup({}, slow);
        const hostile = await provision({
          name: 'hostile',
          waitForComplete: true,
          transformationFunction: 'while (true) {}',
        });
        const plain = await provision({ name: 'plain', waitForComplete: true });
        const friendly = await provision({
          name: 'friendly',
          waitForComplete: true,
          transformationFunction: 'result = "hi"',
        });
        // Both runners started, so the friendly hook does not wait for one to start.
        await Promise.all([slow.run('a', 'result = 1', {}), slow.run('b', 'result = 1', {})]);
        let hostileAnswered = false;
        const stalled = request(app)
          .post(`/webhook/${hostile}`)
          .send({})
          .then((r) => {
            hostileAnswered = true;
            return r;
          });
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect((await request(app).post(`/webhook/${plain}`).send({ text: 'x' })).status).toBe(200);
        expect((await request(app).post(`/webhook/${friendly}`).send({})).status).toBe(200);
        // On the main thread, each of these would have waited until the hostile function ended.
        expect(hostileAnswered).toBe(false);
        const res = await stalled;
        expectAnswer(res, 500, { ok: false, error: 'Failed to process webhook' });
        await waitFor(() => messenger.sent.length === 3);
        expect(messenger.sent.map((s) => s.content.body)).toEqual([
          'x',
          'Received webhook: hi',
          FAILED.body,
        ]);
      });

      it("when a hook's calls already wait then more posts get 503 with Retry-After", async () => {
        const { app, provision } = setup({}, slow);
        const hostile = await provision({
          name: 'hostile',
          transformationFunction: 'while (true) {}',
        });
        const plain = await provision({ name: 'plain' });
        // One running and two waiting.
        for (let i = 0; i < 3; i++) {
          expect((await request(app).post(`/webhook/${hostile}`).send({})).status).toBe(202);
        }
        const res = await request(app).post(`/webhook/${hostile}`).send({});
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.body).toEqual({
          ok: false,
          error: 'Too many transformations are waiting; try again later',
        });
        // Hooks without a function are not held up.
        expect((await request(app).post(`/webhook/${plain}`).send({ text: 'x' })).status).toBe(202);
      });
    });
  });
});
