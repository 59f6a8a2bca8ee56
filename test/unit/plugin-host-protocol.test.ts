import { FrameDecoder, FrameError, encodeFrame } from '../../src/plugins/runtime/host-protocol';
import { resolveHostUser } from '../../src/plugins/runtime/host-sandbox';
import { RateLimit } from '../../src/plugins/runtime/rate-limit';

describe('plugin host frames', () => {
  it('when frames arrive split and joined arbitrarily, then each message comes out once, in order', () => {
    const bytes = Buffer.concat([
      encodeFrame({ kind: 'pong', n: 1 }),
      encodeFrame({ kind: 'log', msg: 'ü'.repeat(1000) }),
      encodeFrame({ kind: 'pong', n: 2 }),
    ]);
    const decoder = new FrameDecoder(1 << 20);
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 7) out.push(...decoder.push(bytes.subarray(i, i + 7)));
    expect(out).toEqual([
      { kind: 'pong', n: 1 },
      { kind: 'log', msg: 'ü'.repeat(1000) },
      { kind: 'pong', n: 2 },
    ]);
  });

  it('when a frame announces more than the limit, then it is refused before its body arrives', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(2 ** 31);
    expect(() => new FrameDecoder(4096).push(head)).toThrow(
      new FrameError(`a message of ${2 ** 31} bytes (the limit is 4096)`),
    );
  });

  it('when a frame is not JSON, then it is refused', () => {
    const body = Buffer.from('{nope');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    expect(() => new FrameDecoder(4096).push(Buffer.concat([head, body]))).toThrow(
      'a message that is not JSON',
    );
  });
});

describe('rate limit', () => {
  it('lets a burst through, then the rate', () => {
    let now = 0;
    const limit = new RateLimit(2, 3, () => now);
    expect([limit.take(), limit.take(), limit.take(), limit.take()]).toEqual([
      'ok',
      'ok',
      'ok',
      'first-drop',
    ]);
    now = 500;
    expect([limit.take(), limit.take()]).toEqual(['ok', 'drop']);
    now = 10_000;
    expect([limit.take(), limit.take(), limit.take(), limit.take()]).toEqual([
      'ok',
      'ok',
      'ok',
      'first-drop',
    ]);
  });

  it('when a source keeps flooding, then its refusals are one burst until it is quiet for a second', () => {
    let now = 0;
    const limit = new RateLimit(10, 1, () => now);
    const firsts: number[] = [];
    // Ten times the rate for five seconds: some pass, the rest is one burst.
    for (; now < 5000; now += 10) if (limit.take() === 'first-drop') firsts.push(now);
    expect(firsts).toEqual([10]);
    now += 1000;
    expect(limit.take()).toBe('ok');
    expect(limit.take()).toBe('first-drop');
    expect(limit.noteDrop()).toBe(false);
  });
});

describe('plugin host user', () => {
  it('when given a name, then it is looked up in /etc/passwd', async () => {
    expect(await resolveHostUser('nobody')).toEqual({ uid: 65534, gid: 65534 });
  });

  it('when given numbers, then they are the uid and gid', async () => {
    expect(await resolveHostUser('1234:5678')).toEqual({ uid: 1234, gid: 5678 });
    expect(await resolveHostUser('1234')).toEqual({ uid: 1234, gid: 1234 });
  });

  it('when the user is root or unknown, then it is refused with a reason', async () => {
    await expect(resolveHostUser('root')).rejects.toThrow(
      'the plugin host user "root" is root; plugins never run as root',
    );
    await expect(resolveHostUser('0:1000')).rejects.toThrow('is root');
    await expect(resolveHostUser('no-such-user-here')).rejects.toThrow(
      'the plugin host user "no-such-user-here" does not exist',
    );
  });
});
