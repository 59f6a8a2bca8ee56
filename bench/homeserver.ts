/**
 * Child process of the webhook benchmarks: the test homeserver on its own, so that its work
 * does not slow the load generator down. It makes the users and rooms, counts the bot's
 * messages and remembers when each numbered one ("seq <sender> <n>") arrived, and answers the
 * parent's questions over IPC. BENCH_HS_SEND_LATENCY_MS and BENCH_HS_SEND_CAPACITY give it a
 * fixed time per message send and a number of sends it handles at once (see SendSlots).
 */
import { TestHomeserver } from '../testing/homeserver/test-homeserver';
import { runBenchChild } from './child';

/** Wall-clock time with sub-millisecond resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const latency = process.env.BENCH_HS_SEND_LATENCY_MS;
  const capacity = process.env.BENCH_HS_SEND_CAPACITY;
  const hs = await TestHomeserver.start({
    ...(latency ? { sendLatencyMs: Number(latency) } : {}),
    ...(capacity ? { sendCapacity: Number(capacity) } : {}),
  });
  const rooms = Number(process.env.BENCH_HOOK_ROOMS ?? 50);
  const owner = hs.registerUser('hook-owner');
  const bot = hs.registerUser('hook-bridge');
  const roomIds: string[] = [];
  for (let i = 0; i < rooms; i++) {
    const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${owner.accessToken}` },
      body: JSON.stringify({
        invite: [bot.userId],
        power_level_content_override: { users: { [owner.userId]: 100, [bot.userId]: 50 } },
      }),
    });
    roomIds.push(((await res.json()) as { room_id: string }).room_id);
  }
  let delivered = 0;
  const arrivals: Record<string, number> = {};
  const order = new Map<string, number[]>();
  hs.onEvent((event) => {
    if (event.sender !== bot.userId || event.type !== 'm.room.message') return;
    delivered++;
    const body = event.content.body;
    const m = typeof body === 'string' ? /^seq (\d+) (\d+)$/.exec(body) : null;
    if (!m) return;
    arrivals[`${m[1]} ${m[2]}`] = now();
    const seen = order.get(event.room_id) ?? [];
    seen.push(Number(m[2]));
    order.set(event.room_id, seen);
  });
  process.on('message', (message: string) => {
    if (message === 'delivered') process.send!({ delivered });
    else if (message === 'arrivals') {
      const inOrder = [...order.values()].every((seqs) => seqs.every((v, i) => v === i));
      process.send!({ arrivals, inOrder });
    }
  });
  // A normal exit, so that a CPU profile (BENCH_PROFILE) is written.
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ url: hs.url, bot, owner: owner.userId, rooms: roomIds });
}

runBenchChild(main);
