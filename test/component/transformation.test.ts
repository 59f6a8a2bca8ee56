import {
  TransformationBusyError,
  TransformationError,
  TransformationRunner,
} from '../../src/webhooks/transformation';
import { TEST_TRANSFORMATION_LIMITS as LIMITS } from '../helpers/transformation-limits';

/** Whether `promise` has settled yet, read later without awaiting it. */
function settledFlag(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => settled;
}

describe('TransformationRunner', () => {
  let runner: TransformationRunner;
  // Only memory stops these: on a busy machine filling 8 MB can take longer than 200 ms.
  let patient: TransformationRunner;
  let seq = 0;

  beforeAll(async () => {
    runner = await TransformationRunner.create(LIMITS);
    patient = await TransformationRunner.create({ ...LIMITS, timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await runner.close();
    await patient.close();
  });

  // Each call its own hook unless a test is about one hook's queue.
  const run = (code: string, data: unknown = {}, on = runner) =>
    on.run(`hook-${++seq}`, code, data);

  const failure = async (code: string, data: unknown = {}, on = runner): Promise<string> => {
    const err: unknown = await run(code, data, on).then(
      () => new Error('the run did not fail'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransformationError);
    return (err as Error).message;
  };

  const body = async (code: string, data: unknown = {}) => (await run(code, data)).content?.body;

  describe('results (hookshot v1 and v2)', () => {
    it('when the script sets a v2 result then the message uses data and the API version', async () => {
      const result = await run(
        'result = {version: "v2", plain: `**${data.who}** ${data.n} ${HookshotApiVersion}`}',
        { who: 'ci', n: 1.5 },
      );
      // The payload is attached by the caller, not by the runner.
      expect(result).toEqual({
        content: {
          msgtype: 'm.notice',
          body: '**ci** 1.5 v2',
          format: 'org.matrix.custom.html',
          formatted_body: '<p><strong>ci</strong> 1.5 v2</p>',
        },
      });
    });

    it('when the result is a string then it is the v1 message', async () => {
      expect((await run('result = "hello"', 'x')).content).toEqual({
        msgtype: 'm.notice',
        body: 'Received webhook: hello',
        format: 'org.matrix.custom.html',
        formatted_body: '<p>Received webhook: hello</p>',
      });
    });

    it('when html, msgtype, mentions, hints and webhookResponse are set then each is used', async () => {
      const result = await run(
        `result = {version: "v2", plain: "p", html: "<b>h</b>", msgtype: "m.text",
          mentions: {room: true, user_ids: ["@a:x"]}, hints: {showUrlPreviews: false},
          webhookResponse: {body: "done", contentType: "text/csv", statusCode: 201}}`,
      );
      expect(result).toEqual({
        content: {
          msgtype: 'm.text',
          body: 'p',
          format: 'org.matrix.custom.html',
          formatted_body: '<b>h</b>',
          'm.mentions': { room: true, user_ids: ['@a:x'] },
          'com.beeper.linkpreviews': [],
        },
        webhookResponse: { body: 'done', contentType: 'text/csv', statusCode: 201 },
      });
    });

    it('when empty is truthy then there is no message but the response stays', async () => {
      expect(
        await run('result = {version: "v2", empty: true, webhookResponse: {body: "ok"}}'),
      ).toEqual({ content: null, webhookResponse: { body: 'ok' } });
      // hookshot tests `empty` for truthiness, not for a boolean.
      expect(await run('result = {version: "v2", empty: 1}')).toEqual({ content: null });
    });

    it('when the script sets no result, null or a non-object then the message says No content', async () => {
      expect(await body('const x = 1;')).toBe('No content');
      // hookshot's documentation: a falsy result (undefined, false or null) is "No content".
      expect(await body('result = null')).toBe('No content');
      expect(await body('result = false')).toBe('No content');
      expect(await body('result = 42')).toBe('No content');
    });

    it('when the result is not a valid v2 object then it is a TransformationError', async () => {
      // hookshot refuses an object without version "v2" (we accepted it before).
      expect(await failure('result = {plain: "x"}')).toBe(
        `Invalid transformation result: 'version' must be "v2"`,
      );
      expect(await failure('result = ["x"]')).toBe(
        `Invalid transformation result: 'version' must be "v2"`,
      );
      expect(await failure('result = {version: "v2"}')).toBe(
        "Invalid transformation result: 'plain' must be a string",
      );
      expect(await failure('result = {version: "v3", plain: "x"}')).toBe(
        'Invalid transformation result: unsupported version "v3"',
      );
      expect(await failure('result = {version: "v2", plain: "x", mentions: {user_ids: [1]}}')).toBe(
        "Invalid transformation result: 'mentions.user_ids' must be a list of strings",
      );
      expect(
        await failure('result = {version: "v2", plain: "x", hints: {showUrlPreviews: "no"}}'),
      ).toBe("Invalid transformation result: 'hints.showUrlPreviews' must be a boolean");
    });
  });

  describe('the webhook response', () => {
    const response = (webhookResponse: string) =>
      `result = {version: "v2", plain: "x", webhookResponse: ${webhookResponse}}`;

    it('when the status is not a final HTTP status 200-599 then the result is refused', async () => {
      const refused =
        "Invalid transformation result: 'webhookResponse.statusCode' must be an HTTP status 200-599";
      for (const status of ['101', '199', '600', '200.5', '"200"']) {
        expect(await failure(response(`{body: "b", statusCode: ${status}}`))).toBe(refused);
      }
      for (const status of [200, 302, 404, 599]) {
        expect((await run(response(`{body: "b", statusCode: ${status}}`))).webhookResponse).toEqual(
          { body: 'b', statusCode: status },
        );
      }
    });

    it('when the content type is one a browser renders as a page then the result is refused', async () => {
      const refused =
        "Invalid transformation result: 'webhookResponse.contentType' must be one of " +
        'application/json, application/*+json, text/plain, text/csv, application/xml, text/xml ' +
        '(charset utf-8 at most)';
      for (const type of [
        'text/html',
        'TEXT/HTML; charset=utf-8',
        'image/svg+xml',
        'application/xhtml+xml',
        'text/plain; charset=iso-8859-1',
        'text/plain, text/html',
        'application/javascript',
        '',
      ]) {
        expect(
          await failure(
            response(`{body: "<script>x</script>", contentType: ${JSON.stringify(type)}}`),
          ),
        ).toBe(refused);
      }
      const type = async (contentType: string) =>
        (await run(response(`{body: "b", contentType: ${JSON.stringify(contentType)}}`)))
          .webhookResponse?.contentType;
      expect(await type('Application/JSON; charset="UTF-8"')).toBe('application/json');
      expect(await type('application/vnd.api+json')).toBe('application/vnd.api+json');
      expect(await type('text/xml')).toBe('text/xml');
      expect(await type('text/plain;charset=utf-8')).toBe('text/plain');
    });

    it('when webhookResponse has no string body then the result is refused', async () => {
      expect(await failure(response('{statusCode: 200}'))).toBe(
        "Invalid transformation result: 'webhookResponse.body' must be a string",
      );
    });
  });

  describe('function bodies (as hookshot evaluates them)', () => {
    it('when the body has a top-level return then it compiles and the rest is skipped', async () => {
      await expect(runner.compile('result = "early"; return; result = "late";')).resolves.toBe(
        undefined,
      );
      expect(await body('result = "early"; return; result = "late";')).toBe(
        'Received webhook: early',
      );
      // The returned value is not the result: hookshot reads only `result`.
      expect(await body('return {version: "v2", plain: "returned"};')).toBe('No content');
    });

    it('when the body is like hookshot contrib alertmanager.js then it runs', async () => {
      const alertmanager = `
        function badge(status) { return status === "resolved" ? "[RESOLVED]" : "[FIRING]"; }
        if (!data.alerts) {
          result = { version: 'v2', empty: true };
          return;
        }
        const lines = [];
        for (const alert of data.alerts) lines.push(badge(alert.status) + " " + alert.labels.alertname);
        result = { version: "v2", plain: lines.join("\\n"), msgtype: "m.text" };`;
      expect(await run(alertmanager, {})).toEqual({ content: null });
      expect(
        await body(alertmanager, {
          alerts: [{ status: 'firing', labels: { alertname: 'DiskFull' } }],
        }),
      ).toBe('[FIRING] DiskFull');
    });

    it('when the body declares result or assigns data then it behaves as in hookshot', async () => {
      // Declarations are local to the function body; only the global `result` counts.
      expect(await body('var result = "local";')).toBe('No content');
      expect(await body('let result = "local";')).toBe('No content');
      expect(await body('globalThis.result = "global";')).toBe('Received webhook: global');
      // `data` is a constant; strict mode makes an undeclared `result` an error.
      expect(await failure('data = 1;')).toMatch(/^TypeError: /);
      expect(await failure('"use strict"; result = 1;')).toMatch(/^ReferenceError: /);
      // Promise callbacks never run: hookshot does not run pending jobs either.
      expect(await body('Promise.resolve().then(() => { result = "later"; });')).toBe('No content');
    });

    it('when the body ends with a line comment then it still runs', async () => {
      expect(await body('result = "x" // done')).toBe('Received webhook: x');
    });

    it('when code does not compile then compile names the syntax error and runs nothing', async () => {
      await expect(runner.compile('result = ;')).rejects.toThrow(TransformationError);
      await expect(runner.compile('result = ;')).rejects.toThrow(/^SyntaxError: /);
      await expect(runner.compile('while (true) {}')).resolves.toBe(undefined);
      // A body cannot close the function it is placed in early and leave a syntax error behind.
      await expect(runner.compile('}')).rejects.toThrow(/^SyntaxError: /);
    });
  });

  describe('hostile scripts', () => {
    it('when the script loops forever then it is stopped at its time limit', async () => {
      const started = Date.now();
      expect(await failure('while (true) {}')).toBe('Transformation function exceeded 200 ms');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await failure('try { for (;;) {} } catch (e) { result = "caught"; }')).toBe(
        'Transformation function exceeded 200 ms',
      );
      expect(await body('result = "still alive"')).toBe('Received webhook: still alive');
    });

    it('when the script allocates without end then it runs out of memory and the next works', async () => {
      expect(
        await failure('const a = []; while (true) a.push({ n: a.length });', {}, patient),
      ).toMatch(/out of memory/);
      // Array buffers and string growth escape QuickJS's own accounting; the capped module
      // memory still stops them.
      expect(
        await failure('const b = []; while (true) b.push(new ArrayBuffer(1 << 20));', {}, patient),
      ).toMatch(/out of memory/);
      expect(
        await failure(
          'const a = []; while (true) a.push("y".repeat(1000) + a.length);',
          {},
          patient,
        ),
      ).toMatch(/out of memory/);
      expect((await patient.run('next', 'result = "ok"', {})).content?.body).toBe(
        'Received webhook: ok',
      );
    });

    it('when the result is larger than the limit then it is refused', async () => {
      const roomy = await TransformationRunner.create({
        ...LIMITS,
        memoryMb: 64,
        timeoutMs: 30_000,
      });
      try {
        expect(await failure('result = "x".repeat(15 * 1024 * 1024)', {}, roomy)).toBe(
          'Transformation result exceeds 65536 bytes (as JSON)',
        );
        // Bytes, not characters: 30000 three-byte characters are over 64 KiB.
        expect(await failure('result = "€".repeat(30000)', {}, roomy)).toBe(
          'Transformation result exceeds 65536 bytes (as JSON)',
        );
        expect(await body('result = "x".repeat(60000)')).toHaveLength(60_000 + 18);
      } finally {
        await roomy.close();
      }
    });

    it('when the script recurses without end then it is a stack overflow', async () => {
      // Reaching the stack's end takes a while on a busy machine: the time limit must not win.
      const patient = await TransformationRunner.create({ ...LIMITS, timeoutMs: 10_000 });
      try {
        const overflow = (code: string) => failure(code, {}, patient);
        expect(await overflow('function f() { return f() + 1; } f()')).toMatch(/stack overflow/);
        expect(await overflow('JSON.parse("[".repeat(100000) + "]".repeat(100000))')).toMatch(
          /stack overflow/,
        );
        expect(
          await overflow(
            'const o = {}; let p = o; for (let i = 0; i < 1e4; i++) p = p.n = {}; result = o',
          ),
        ).toMatch(/stack overflow/);
        expect(await body('result = "after"')).toBe('Received webhook: after');
      } finally {
        await patient.close();
      }
    });

    it('when the script throws something other than an Error then the failure says what', async () => {
      // What QuickJS throws when memory runs out before it can make an error object.
      expect(await failure('throw null')).toBe(
        'Transformation function threw null or ran out of its 8 MB of memory',
      );
      expect(await failure('throw "plain text"')).toBe('Uncaught "plain text"');
      expect(await failure('throw 42')).toBe('Uncaught 42');
      expect(await failure('throw undefined')).toBe('Uncaught undefined');
      expect(await failure('throw {code: 7}')).toBe('Uncaught {"code":7}');
      expect(await failure('throw Symbol("s")')).toBe('Uncaught Symbol(s)');
      expect(await failure('throw {name: "Custom", message: "m"}')).toBe('Custom: m');
      expect(await failure('throw {get message() { throw new Error("again"); }}')).toBe(
        'Uncaught exception that could not be described',
      );
      expect(await failure('throw new Proxy({}, {get() { throw 1; }})')).toBe(
        'Uncaught exception that could not be described',
      );
      // Describing it cannot be used to run past the limit.
      expect(await failure('throw {get message() { for (;;) {} }}')).toBe(
        'Transformation function exceeded 200 ms',
      );
      expect(await failure('throw "x".repeat(100000)')).toHaveLength(2_000);
    });

    it('when the script tampers with prototypes and globals then only its own run sees it', async () => {
      // Inherited properties are not part of the result.
      expect(
        await failure(
          'Object.prototype.version = "v2"; Object.prototype.plain = "p"; result = {};',
        ),
      ).toBe(`Invalid transformation result: 'version' must be "v2"`);
      // A __proto__ key is an own property, not a prototype, once the result leaves the sandbox.
      expect(
        await run(
          `result = JSON.parse('{"version":"v2","plain":"p","__proto__":{"webhookResponse":{"body":"x"},"html":"<i>"}}')`,
        ),
      ).toEqual({
        content: {
          msgtype: 'm.notice',
          body: 'p',
          format: 'org.matrix.custom.html',
          formatted_body: '<p>p</p>',
        },
      });
      // The payload's __proto__ is data too, not the prototype of `data`.
      expect(
        await body('result = String(Object.getPrototypeOf(data) === Object.prototype)', {
          ['__proto__']: { polluted: true },
        }),
      ).toBe('Received webhook: true');
      // What the script reads through the helpers was captured before it ran.
      expect(
        await body(
          'JSON.stringify = () => "{\\"version\\":\\"v2\\",\\"plain\\":\\"forged\\"}"; result = "real"',
        ),
      ).toBe('Received webhook: real');
      expect(
        await failure('Object.defineProperty(globalThis, "result", {get() { for (;;) {} }})'),
      ).toBe('Transformation function exceeded 200 ms');
      // Every run starts clean, on every runner.
      const clean =
        'result = [typeof ({}).plain, typeof globalThis.leftover, JSON.stringify([1])].join()';
      await run('Object.prototype.plain = "p"; globalThis.leftover = 1; result = "x"');
      for (let i = 0; i < 4; i++) {
        expect(await body(clean)).toBe('Received webhook: undefined,undefined,[1]');
      }
      expect(({} as Record<string, unknown>).plain).toBeUndefined();
    });

    it('when the script looks for the host then there is nothing to reach', async () => {
      const probe = `result = [
        typeof require, typeof process, typeof module, typeof setTimeout, typeof setInterval,
        typeof setImmediate, typeof queueMicrotask, typeof console, typeof fetch,
        typeof WebAssembly, typeof Buffer, typeof std, typeof os,
        globalThis.constructor.constructor("return typeof process")()
      ].join()`;
      expect(await body(probe)).toBe(
        `Received webhook: ${Array.from({ length: 14 }, () => 'undefined').join(',')}`,
      );
      // No module loader: static imports do not compile in a function body.
      await expect(runner.compile('import fs from "fs";')).rejects.toThrow(/^SyntaxError: /);
    });
  });

  describe('runners and their queue', () => {
    it('when the runner is killed mid-call then that call fails and the next one works', async () => {
      const own = await TransformationRunner.create({ ...LIMITS, runners: 1, timeoutMs: 30_000 });
      try {
        await own.run('warm', 'result = "ready"', {});
        const call = own.run('victim', 'while (true) {}', {});
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(own.workers()).toHaveLength(1);
        await own.workers()[0]!.terminate();
        await expect(call).rejects.toThrow(
          new TransformationError('The transformation runner stopped during the call'),
        );
        expect((await own.run('after', 'result = "fresh"', {})).content?.body).toBe(
          'Received webhook: fresh',
        );
        expect(own.spawned).toBe(2);
      } finally {
        await own.close();
      }
    });

    it('when the script is stuck in native code then its runner is terminated and replaced', async () => {
      const own = await TransformationRunner.create({ ...LIMITS, runners: 1 });
      try {
        await own.run('warm', 'result = "ready"', {});
        // A naive string search inside QuickJS: minutes of native code that never checks the
        // time limit. Only terminating the runner stops it.
        const stuck = 'const s = "a".repeat(1 << 20) + "b"; s.indexOf("a".repeat(1 << 19) + "c");';
        const started = Date.now();
        await expect(own.run('stuck', stuck, {})).rejects.toThrow(
          new TransformationError('Transformation function exceeded 200 ms'),
        );
        expect(Date.now() - started).toBeLessThan(5_000);
        expect((await own.run('after', 'result = "fresh"', {})).content?.body).toBe(
          'Received webhook: fresh',
        );
        expect(own.spawned).toBe(2);
      } finally {
        await own.close();
      }
    });

    it('when one hook loops then another hook is answered promptly', async () => {
      const own = await TransformationRunner.create({ ...LIMITS, runners: 2, timeoutMs: 3_000 });
      try {
        await Promise.all([own.run('a', 'result = 1', {}), own.run('b', 'result = 1', {})]);
        // A hook's calls run one at a time: the second hostile call waits for the first.
        const hostile = own.run('hostile', 'while (true) {}', {});
        const hostileAgain = own.run('hostile', 'while (true) {}', {});
        const hostileEnded = settledFlag(hostile);
        expect((await own.run('friendly', 'result = "quick"', {})).content?.body).toBe(
          'Received webhook: quick',
        );
        // Answered while the first hostile call still runs: it did not wait for a runner.
        expect(hostileEnded()).toBe(false);
        await expect(hostile).rejects.toThrow(TransformationError);
        await expect(hostileAgain).rejects.toThrow(TransformationError);
      } finally {
        await own.close();
      }
    });

    it('when hooks lately loop or exhaust memory then they leave a runner free for the others', async () => {
      // A long time limit: on a busy machine the light call must still come before the first
      // heavy one ends.
      const own = await TransformationRunner.create({ ...LIMITS, runners: 2, timeoutMs: 5_000 });
      try {
        // Each uses up a whole time limit once: both count as heavy from now on.
        const spin = 'while (true) {}';
        await Promise.allSettled([own.run('a', spin, {}), own.run('b', spin, {})]);
        // Both runners up (a slow machine may have had to replace one).
        await Promise.all([own.run('w1', 'result = 1', {}), own.run('w2', 'result = 1', {})]);
        const first = own.run('a', spin, {});
        const hostile = Promise.allSettled([first, own.run('b', spin, {})]);
        const firstEnded = settledFlag(first);
        // Only one heavy hook runs at a time, so the second runner is free.
        expect((await own.run('light', 'result = "quick"', {})).content?.body).toBe(
          'Received webhook: quick',
        );
        expect(firstEnded()).toBe(false);
        // The heavy ones still run, one after the other.
        expect((await hostile).map((r) => r.status)).toEqual(['rejected', 'rejected']);
      } finally {
        await own.close();
      }
    }, 60_000);

    it('when a hook has too many calls waiting then run throws busy at once, others still run', async () => {
      const own = await TransformationRunner.create({
        ...LIMITS,
        runners: 1,
        timeoutMs: 1_000,
        queueSize: 3,
        queuePerHook: 2,
      });
      try {
        await own.run('warm', 'result = "ready"', {});
        // The first goes to the runner at once; two more of that hook may wait.
        const calls = [
          own.run('slow', 'while (true) {}', {}),
          own.run('slow', 'result = "a"', {}),
          own.run('slow', 'result = "b"', {}),
        ];
        const settled = Promise.allSettled(calls);
        expect(() => own.run('slow', 'result = "c"', {})).toThrow(TransformationBusyError);
        // Other hooks may still wait, up to the limit over all hooks.
        const other = own.run('other', 'result = "other"', {});
        expect(() => own.run('third', 'result = "d"', {})).toThrow(TransformationBusyError);
        const bodies = (await settled).map((s) =>
          s.status === 'fulfilled' ? s.value.content?.body : 'failed',
        );
        expect(bodies).toEqual(['failed', 'Received webhook: a', 'Received webhook: b']);
        expect((await other).content?.body).toBe('Received webhook: other');
        expect((await own.run('slow', 'result = "again"', {})).content?.body).toBe(
          'Received webhook: again',
        );
      } finally {
        await own.close();
      }
    });

    it("when a hook's calls complete then they do so in the order they came", async () => {
      const order: number[] = [];
      const calls = Array.from({ length: 4 }, (_, i) =>
        runner
          .run('ordered', `for (let i = 0; i < ${(4 - i) * 20000}; i++) {} result = "${i}"`, {})
          .then(() => order.push(i)),
      );
      await Promise.all(calls);
      expect(order).toEqual([0, 1, 2, 3]);
    });

    it('when the runner is closed then waiting calls fail and new ones are refused', async () => {
      const own = await TransformationRunner.create({ ...LIMITS, runners: 1, timeoutMs: 5_000 });
      await own.run('warm', 'result = "ready"', {});
      const calls = Promise.allSettled([
        own.run('a', 'while (true) {}', {}),
        own.run('b', 'result = 1', {}),
      ]);
      await own.close();
      expect(await calls).toEqual([
        { status: 'rejected', reason: new TransformationError('The server is stopping') },
        { status: 'rejected', reason: new TransformationError('The server is stopping') },
      ]);
      await expect(own.run('c', 'result = 1', {})).rejects.toThrow(TransformationError);
      expect(own.workers()).toEqual([]);
    });
  });
});
