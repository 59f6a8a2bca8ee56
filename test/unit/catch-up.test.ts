import { CatchUp, type SyncGaps } from '../../src/matrix/catch-up';
import type { RoomEvent } from '../../src/matrix/bot-client';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';

const event = (roomId: string, body: string): RoomEvent => ({
  roomId,
  eventId: `$${body}`,
  type: 'm.room.message',
  sender: '@alice:x',
  content: { body },
  originServerTs: 0,
});
const limited = (roomId: string, prevBatch: string): SyncGaps => ({
  rooms: { join: { [roomId]: { timeline: { limited: true, prev_batch: prevBatch } } } },
});

function harness() {
  const emitted: string[] = [];
  const fetches: {
    roomId: string;
    from: string;
    to: string;
    resolve(e: RoomEvent[]): void;
    reject(e: Error): void;
  }[] = [];
  const logs = captureLogs();
  const catchUp = new CatchUp({
    emit: (e) => emitted.push(`${e.roomId} ${String(e.content.body)}`),
    fetchGap: (roomId, from, to) =>
      new Promise((resolve, reject) => fetches.push({ roomId, from, to, resolve, reject })),
    logger: logs.logger,
  });
  return { catchUp, emitted, fetches, logs };
}

describe('CatchUp', () => {
  it('when a sync is not limited then its events go on at once, in order', () => {
    const { catchUp, emitted, fetches } = harness();
    catchUp.add(event('!a', '1'));
    catchUp.add(event('!b', '1'));
    expect(emitted).toEqual([]);
    catchUp.synced({ rooms: { join: { '!a': { timeline: { limited: false } } } } }, 's1');
    expect(emitted).toEqual(['!a 1', '!b 1']);
    expect(fetches).toEqual([]);
  });

  it("when a room's timeline was limited then the gap comes first and that room's later events wait; other rooms do not", async () => {
    const { catchUp, emitted, fetches } = harness();
    catchUp.add(event('!a', 'new 1'));
    catchUp.add(event('!b', 'other'));
    catchUp.synced(limited('!a', 'p1'), 's5');
    await waitFor(() => fetches.length === 1);
    expect(fetches.map((f) => [f.roomId, f.from, f.to])).toEqual([['!a', 's5', 'p1']]);
    expect(emitted).toEqual(['!b other']);
    // The next sync's event of the same room waits behind the gap too.
    catchUp.add(event('!a', 'new 2'));
    catchUp.synced({}, 's9');
    expect(emitted).toEqual(['!b other']);
    fetches[0]!.resolve([event('!a', 'missed 1'), event('!a', 'missed 2')]);
    await waitFor(() => emitted.length === 5);
    expect(emitted).toEqual(['!b other', '!a missed 1', '!a missed 2', '!a new 1', '!a new 2']);
  });

  it('when fetching the gap fails then it is logged and the waiting events still go on', async () => {
    const { catchUp, emitted, fetches, logs } = harness();
    catchUp.add(event('!a', 'new'));
    catchUp.synced(limited('!a', 'p1'), 's5');
    await waitFor(() => fetches.length === 1);
    fetches[0]!.reject(new Error('502'));
    await waitFor(() => emitted.length === 1);
    expect(emitted).toEqual(['!a new']);
    expect(logs.text()).toContain('could not fetch the events a limited sync left out of a room');
  });

  it('when the first sync has no starting point then a limited timeline is no gap', async () => {
    const { catchUp, emitted, fetches } = harness();
    catchUp.add(event('!a', 'latest'));
    catchUp.synced(limited('!a', 'p1'), null);
    expect(emitted).toEqual(['!a latest']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fetches).toEqual([]);
  });
});
