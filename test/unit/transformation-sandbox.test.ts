import {
  BASE_BYTES,
  Sandbox,
  compileQuickJSModule,
} from '../../src/webhooks/transformation-sandbox';

const MB = 1024 * 1024;

describe('Sandbox (QuickJS in a fixed-size memory)', () => {
  let module: WebAssembly.Module;

  beforeAll(async () => {
    module = await compileQuickJSModule();
  });

  // QuickJS's own memory limit misses array buffers and string growth: measured, these grew the
  // module's memory to 0.5-2 GB with a 16 MB limit. The capped WebAssembly memory holds.
  it.each([
    ['array buffers', 'const b = []; while (true) b.push(new ArrayBuffer(1 << 20));'],
    ['growing strings', 'const a = []; while (true) a.push("y".repeat(1000) + a.length);'],
    ['objects', 'const a = []; while (true) a.push({ n: a.length });'],
    ['one doubling string', 'let s = "xy"; while (true) s = s + s + "!";'],
  ])('when a script allocates %s without end then memory stops at the cap', async (_, code) => {
    const sandbox = await Sandbox.load(module, {
      memoryMb: 8,
      timeoutMs: 30_000,
      maxResultBytes: 65_536,
    });
    const outcome = sandbox.run(code, '{}');
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.error).toMatch(/out of memory|string too long|threw null/);
    expect(sandbox.memoryBytes).toBeLessThanOrEqual(BASE_BYTES + 8 * MB);
    // The module still works (the runner is replaced all the same, as its memory grew).
    expect(sandbox.run('result = "next"', '{}')).toEqual({ ok: true, value: 'next' });
  });

  it('when a payload is parsed then floats and nesting arrive as sent', async () => {
    const sandbox = await Sandbox.load(module, {
      memoryMb: 8,
      timeoutMs: 1_000,
      maxResultBytes: 65_536,
    });
    const data = { f: 1.5, list: [1, { deep: [null, true] }], text: 'ü\u2028' };
    expect(sandbox.run('result = data', JSON.stringify(data))).toEqual({ ok: true, value: data });
    expect(sandbox.run('result = HookshotApiVersion', '{}')).toEqual({ ok: true, value: 'v2' });
    // A small runner refuses a payload it cannot hold rather than growing.
    const big = JSON.stringify(Array.from({ length: 200_000 }, (_, i) => ({ i })));
    const outcome = sandbox.run('result = "parsed"', big);
    expect(outcome.ok).toBe(false);
    expect(sandbox.memoryBytes).toBeLessThanOrEqual(BASE_BYTES + 8 * MB);
  });
});
