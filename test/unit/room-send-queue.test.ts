import { RoomSendQueue, type RoomSendQueueOptions } from '../../src/bridge/room-send-queue';
import type { SendConcurrency } from '../../src/bridge/send-concurrency';
import { waitFor } from '../helpers/wait';

/** A limit the test sets, recording what the queue tells it. */
function fixed(limit: number) {
  const reports: string[] = [];
  let tickets = 0;
  const concurrency: SendConcurrency & { limit: number; reports: string[] } = {
    limit,
    reports,
    begin: () => ++tickets,
    succeeded: (ticket, latencyMs, saturated) =>
      reports.push(
        `ok #${ticket} ${latencyMs >= 0 ? 'timed' : 'untimed'} ${saturated ? 'full' : 'spare'}`,
      ),
    congested: (ticket) => reports.push(`congested #${ticket}`),
  };
  return concurrency;
}

const json = (content: Record<string, unknown>) => JSON.stringify(content);

interface Call {
  roomId: string;
  type: string;
  body: string;
  resolve(eventId: string): void;
  reject(err: Error): void;
}

class Retryable extends Error {}

/** A homeserver whose answers the test gives, one call at a time. */
function harness(options: Partial<RoomSendQueueOptions> = {}) {
  const calls: Call[] = [];
  const settled: string[] = [];
  const retries: { roomId: string; attempt: number; delayMs: number }[] = [];
  const queue = new RoomSendQueue({
    send: (roomId, type, body) =>
      new Promise<string>((resolve, reject) => calls.push({ roomId, type, body, resolve, reject })),
    concurrency: fixed(2),
    congested: (err) => err instanceof Retryable,
    retryDelay: (err, attempt) => (err instanceof Retryable && attempt < 3 ? 10 * attempt : null),
    retrying: (roomId, _err, attempt, delayMs) => retries.push({ roomId, attempt, delayMs }),
    ...options,
  });
  const enqueue = (roomId: string, text: string) =>
    queue.enqueue(roomId, 'm.room.message', json({ body: text }), (err, eventId) =>
      settled.push(err === null ? `${text} ${eventId}` : `${text} failed: ${err.message}`),
    );
  const texts = () => calls.map((c) => (JSON.parse(c.body) as { body: string }).body);
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { queue, calls, settled, retries, enqueue, texts, tick };
}

describe('RoomSendQueue', () => {
  it('when messages are queued then each is sent as the JSON text given, with its type', async () => {
    const { queue, calls } = harness();
    queue.enqueue('!a:x', 'm.reaction', json({ 'm.relates_to': { key: '👍' } }));
    await waitFor(() => calls.length === 1);
    expect(calls[0]).toMatchObject({
      roomId: '!a:x',
      type: 'm.reaction',
      body: '{"m.relates_to":{"key":"👍"}}',
    });
  });

  it('when a room has several messages then they go one at a time, in order', async () => {
    const { calls, settled, enqueue, texts, tick } = harness();
    for (const text of ['one', 'two', 'three']) enqueue('!a:x', text);
    await tick();
    expect(texts()).toEqual(['one']);
    calls[0]!.resolve('$1');
    await waitFor(() => calls.length === 2);
    expect(texts()).toEqual(['one', 'two']);
    calls[1]!.resolve('$2');
    await waitFor(() => calls.length === 3);
    calls[2]!.resolve('$3');
    await waitFor(() => settled.length === 3);
    expect(settled).toEqual(['one $1', 'two $2', 'three $3']);
  });

  it('when more rooms wait than there are slots then at most the limit of sends run', async () => {
    const { calls, enqueue, texts, tick } = harness();
    for (const room of ['!a:x', '!b:x', '!c:x']) enqueue(room, room);
    await tick();
    expect(texts()).toEqual(['!a:x', '!b:x']);
    calls[1]!.resolve('$b');
    await waitFor(() => calls.length === 3);
    expect(texts()).toEqual(['!a:x', '!b:x', '!c:x']);
  });

  it('when one room has a long queue then another room gets the next free slot', async () => {
    const { calls, enqueue, texts } = harness({ concurrency: fixed(1) });
    for (const text of ['a1', 'a2', 'a3']) enqueue('!a:x', text);
    enqueue('!b:x', 'b1');
    await waitFor(() => calls.length === 1);
    calls[0]!.resolve('$a1');
    await waitFor(() => calls.length === 2);
    calls[1]!.resolve('$b1');
    await waitFor(() => calls.length === 3);
    expect(texts()).toEqual(['a1', 'b1', 'a2']);
  });

  it('when a send fails with a retryable error then it is retried after the delay and nothing overtakes it', async () => {
    const { calls, settled, retries, enqueue, texts, tick } = harness();
    enqueue('!a:x', 'first');
    enqueue('!a:x', 'second');
    await waitFor(() => calls.length === 1);
    calls[0]!.reject(new Retryable('429'));
    await waitFor(() => calls.length === 2);
    expect(texts()).toEqual(['first', 'first']);
    expect(retries).toEqual([{ roomId: '!a:x', attempt: 1, delayMs: 10 }]);
    calls[1]!.resolve('$1');
    await waitFor(() => calls.length === 3);
    expect(texts()).toEqual(['first', 'first', 'second']);
    calls[2]!.resolve('$2');
    await waitFor(() => settled.length === 2);
    await tick();
    expect(settled).toEqual(['first $1', 'second $2']);
  });

  it('when a room waits to retry then its slot serves another room meanwhile', async () => {
    const { calls, enqueue, texts } = harness({
      concurrency: fixed(1),
      retryDelay: () => 200,
    });
    enqueue('!a:x', 'a1');
    enqueue('!b:x', 'b1');
    await waitFor(() => calls.length === 1);
    calls[0]!.reject(new Retryable('502'));
    await waitFor(() => calls.length === 2, { timeoutMs: 150, intervalMs: 5 });
    expect(texts()).toEqual(['a1', 'b1']);
  });

  it('when retries run out or the error is final then the message fails and the next one goes', async () => {
    const { calls, settled, retries, enqueue, texts } = harness();
    enqueue('!a:x', 'doomed');
    enqueue('!a:x', 'refused');
    enqueue('!a:x', 'fine');
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(() => calls.length === attempt);
      calls[attempt - 1]!.reject(new Retryable(`503 #${attempt}`));
    }
    await waitFor(() => calls.length === 4);
    calls[3]!.reject(new Error('M_FORBIDDEN'));
    await waitFor(() => calls.length === 5);
    calls[4]!.resolve('$fine');
    await waitFor(() => settled.length === 3);
    expect(texts()).toEqual(['doomed', 'doomed', 'doomed', 'refused', 'fine']);
    expect(retries.map((r) => r.delayMs)).toEqual([10, 20]);
    expect(settled).toEqual(['doomed failed: 503 #3', 'refused failed: M_FORBIDDEN', 'fine $fine']);
  });

  it('when the send throws at once then the message fails like a rejected send', async () => {
    const settled: string[] = [];
    const queue = new RoomSendQueue({
      send: () => {
        throw new Error('not running');
      },
      concurrency: fixed(1),
      congested: () => false,
      retryDelay: () => null,
    });
    queue.enqueue('!a:x', 'm.room.message', json({ body: 'x' }), (err) =>
      settled.push(err!.message),
    );
    await waitFor(() => settled.length === 1);
    expect(settled).toEqual(['not running']);
    expect(queue.backlog).toBe(0);
  });

  it('when messages wait and are sent then the backlog counts them down to zero', async () => {
    const { queue, calls, enqueue } = harness();
    for (const text of ['a1', 'a2']) enqueue('!a:x', text);
    enqueue('!b:x', 'b1');
    expect(queue.backlog).toBe(3);
    await waitFor(() => calls.length === 2);
    calls[0]!.resolve('$a1');
    calls[1]!.resolve('$b1');
    await waitFor(() => calls.length === 3);
    expect(queue.backlog).toBe(1);
    calls[2]!.resolve('$a2');
    await waitFor(() => queue.backlog === 0);
  });

  it('when a room queues thousands of messages then they all arrive in order', async () => {
    const sent: number[] = [];
    const queue = new RoomSendQueue({
      send: (_roomId, _type, body) => {
        sent.push((JSON.parse(body) as { n: number }).n);
        return Promise.resolve(`$${sent.length}`);
      },
      concurrency: fixed(4),
      congested: () => false,
      retryDelay: () => null,
    });
    for (let n = 0; n < 5000; n++) queue.enqueue('!a:x', 'm.room.message', json({ n }));
    await waitFor(() => queue.backlog === 0);
    expect(sent).toEqual(Array.from({ length: 5000 }, (_, n) => n));
  });

  it('when sends end then the limit hears of each: timed successes, saturation, congestion', async () => {
    const concurrency = fixed(2);
    const { calls, enqueue } = harness({ concurrency });
    enqueue('!a:x', 'a1');
    await waitFor(() => calls.length === 1);
    calls[0]!.resolve('$a1');
    await waitFor(() => concurrency.reports.length === 1);
    enqueue('!a:x', 'a2');
    enqueue('!b:x', 'b1');
    await waitFor(() => calls.length === 3);
    calls[1]!.reject(new Retryable('429'));
    calls[2]!.reject(new Error('M_FORBIDDEN'));
    await waitFor(() => calls.length === 4);
    calls[3]!.resolve('$a2');
    await waitFor(() => concurrency.reports.length === 3);
    // The first send ran alone (a slot to spare); the pair filled both; a 403 says nothing.
    expect(concurrency.reports).toEqual(['ok #1 timed spare', 'congested #2', 'ok #4 timed spare']);
  });

  it('when the limit rises then more rooms are sent to at once, still one send per room', async () => {
    const concurrency = fixed(1);
    const { calls, enqueue, texts, tick } = harness({ concurrency });
    for (const room of ['!a:x', '!b:x', '!c:x', '!d:x']) {
      enqueue(room, `${room} 1`);
      enqueue(room, `${room} 2`);
    }
    await tick();
    expect(texts()).toEqual(['!a:x 1']);
    concurrency.limit = 3;
    calls[0]!.resolve('$1');
    await waitFor(() => calls.length === 4);
    // Rooms take turns: b, c and d before a's second message.
    expect(texts()).toEqual(['!a:x 1', '!b:x 1', '!c:x 1', '!d:x 1']);
    concurrency.limit = 1;
    for (const call of calls.slice(1)) call.resolve('$x');
    await waitFor(() => calls.length === 5);
    await tick();
    expect(texts()).toHaveLength(5);
    expect(texts()[4]).toBe('!a:x 2');
  });
});
