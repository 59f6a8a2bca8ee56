import { TransformationError, TransformationRunner } from '../../src/webhooks/transformation';

describe('TransformationRunner', () => {
  let runner: TransformationRunner;
  // Only memory stops this one: on a busy machine filling 8 MB can take longer than 200 ms.
  let patient: TransformationRunner;

  beforeAll(async () => {
    runner = await TransformationRunner.create({ memoryMb: 8, timeoutMs: 200 });
    patient = await TransformationRunner.create({ memoryMb: 8, timeoutMs: 30_000 });
  });

  const failure = (code: string, data: unknown = {}, on = runner): string => {
    try {
      on.run(code, data);
    } catch (err) {
      expect(err).toBeInstanceOf(TransformationError);
      return (err as Error).message;
    }
    throw new Error('the run did not fail');
  };

  it('when the script sets a v2 result then the message uses data and the API version', () => {
    const result = runner.run(
      'result = {version: "v2", plain: `**${data.who}** ${data.n} ${HookshotApiVersion}`}',
      { who: 'ci', n: 1.5 },
    );
    expect(result).toEqual({
      content: {
        msgtype: 'm.notice',
        body: '**ci** 1.5 v2',
        format: 'org.matrix.custom.html',
        formatted_body: '<p><strong>ci</strong> 1.5 v2</p>',
        'uk.half-shot.hookshot.webhook_data': { who: 'ci', n: '1.5' },
      },
    });
  });

  it('when the result is a string then it is the v1 message', () => {
    expect(runner.run('result = "hello"', 'x').content).toMatchObject({
      body: 'Received webhook: hello',
      formatted_body: '<p>Received webhook: hello</p>',
    });
  });

  it('when html, msgtype, mentions and webhookResponse are set then each is used', () => {
    const result = runner.run(
      `result = {version: "v2", plain: "p", html: "<b>h</b>", msgtype: "m.text",
        mentions: {room: true, user_ids: ["@a:x"]},
        webhookResponse: {body: "done", contentType: "text/csv", statusCode: 201}}`,
      {},
    );
    expect(result).toEqual({
      content: {
        msgtype: 'm.text',
        body: 'p',
        format: 'org.matrix.custom.html',
        formatted_body: '<b>h</b>',
        'm.mentions': { room: true, user_ids: ['@a:x'] },
        'uk.half-shot.hookshot.webhook_data': {},
      },
      webhookResponse: { body: 'done', contentType: 'text/csv', statusCode: 201 },
    });
  });

  it('when empty is true then there is no message but the response stays', () => {
    expect(
      runner.run('result = {version: "v2", empty: true, webhookResponse: {body: "ok"}}', {}),
    ).toEqual({ content: null, webhookResponse: { body: 'ok' } });
  });

  it('when the result is invalid then it is a TransformationError', () => {
    expect(failure('result = {version: "v2"}')).toBe(
      "Invalid transformation result: 'plain' must be a string",
    );
    expect(failure('result = {version: "v3", plain: "x"}')).toBe(
      'Invalid transformation result: unsupported version "v3"',
    );
    expect(failure('result = {plain: "x", mentions: {user_ids: [1]}}')).toBe(
      "Invalid transformation result: 'mentions.user_ids' must be a list of strings",
    );
    expect(failure('result = {plain: "x", webhookResponse: {body: "b", statusCode: 99}}')).toBe(
      "Invalid transformation result: 'webhookResponse.statusCode' must be an HTTP status code",
    );
  });

  it('when the script throws, loops or exhausts memory then the runner keeps working', () => {
    expect(failure('throw new Error("boom")')).toBe('Error: boom');
    const started = Date.now();
    expect(failure('while (true) {}')).toBe('Transformation function exceeded 200 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(failure('const a = []; while (true) a.push({ n: a.length });', {}, patient)).toBe(
      'InternalError: out of memory',
    );
    // What QuickJS throws when memory runs out before it can make an error object.
    expect(failure('throw null')).toBe(
      'Transformation function threw null or ran out of its 8 MB of memory',
    );
    expect(failure('throw "plain text"')).toBe('Uncaught "plain text"');
    expect(failure('function f() { return f() + 1; } f()')).toMatch(/stack overflow/);
    expect(runner.run('result = "still alive"', {}).content?.body).toBe(
      'Received webhook: still alive',
    );
  });

  it('when the script sets no result then the message says there is no content', () => {
    expect(runner.run('const x = 1;', {}).content?.body).toBe('No content');
  });

  it('when code does not compile then compile names the syntax error and runs nothing', () => {
    expect(() => runner.compile('result = ;')).toThrow(TransformationError);
    expect(() => runner.compile('result = ;')).toThrow(/^SyntaxError: /);
    expect(() => runner.compile('while (true) {}')).not.toThrow();
  });
});
