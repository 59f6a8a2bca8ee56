/** Command round trip through plugin instances. */
import type { ChildProcess } from 'node:child_process';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import { type BenchPart, quantile, startBenchChild, stopChild } from '../lib';

const COMMAND_CLIENTS = 5;
const INSTANCES_PER_CLIENT = 4;
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 400);
const COMMAND_P99_TARGET_MS = 50;

/**
 * Command round trip through plugin instances: a user's `!command` stored on the homeserver →
 * synced to Switchboard → dispatched to the plugin's host process → its reply stored on the
 * homeserver. 20 instances on 5 clients, one room per client, the rooms in parallel.
 */
async function run(): Promise<boolean> {
  const hs = await TestHomeserver.start();
  let child: ChildProcess | undefined;
  try {
    const user = hs.registerUser('bench-user');
    const bots = Array.from({ length: COMMAND_CLIENTS }, (_, i) => hs.registerUser(`cmd${i}`));
    const rooms: string[] = [];
    for (const bot of bots) {
      const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${user.accessToken}` },
        body: JSON.stringify({ invite: [bot.userId] }),
      });
      rooms.push(((await res.json()) as { room_id: string }).room_id);
    }
    let line: string;
    ({ child, line } = await startBenchChild('instances.ts', {
      BENCH_HS_URL: hs.url,
      BENCH_TOKENS: JSON.stringify(bots.map((b) => b.accessToken)),
      BENCH_PER_CLIENT: String(INSTANCES_PER_CLIENT),
    }));
    const { instances } = JSON.parse(line) as { instances: number };

    const stored = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    hs.onEvent((event) => {
      const body = event.content.body;
      if (typeof body !== 'string') return;
      if (event.sender === user.userId) stored.set(body.split(' ')[1]!, performance.now());
      else waiting.get(body)?.();
    });
    let txn = 0;
    const command = async (room: number, instance: number, tag: string): Promise<number> => {
      const reply = new Promise<void>((resolve) => waiting.set(tag, resolve));
      await fetch(
        `${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(rooms[room]!)}/send/m.room.message/b${++txn}`,
        {
          method: 'PUT',
          headers: { Authorization: `Bearer ${user.accessToken}` },
          body: JSON.stringify({ msgtype: 'm.text', body: `!i${instance} ${tag}` }),
        },
      );
      await reply;
      waiting.delete(tag);
      return performance.now() - stored.get(tag)!;
    };
    // Until every bot has joined its room and every instance answers once.
    const warm = async (room: number) => {
      for (let k = 0; k < INSTANCES_PER_CLIENT; k++) {
        const instance = room * INSTANCES_PER_CLIENT + k;
        for (;;) {
          const tag = `w${instance}-${txn}`;
          const answered = await Promise.race([
            command(room, instance, tag).then(() => true),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
          ]);
          if (answered) break;
        }
      }
    };
    await Promise.all(rooms.map((_, room) => warm(room)));
    const latencies: number[] = [];
    await Promise.all(
      rooms.map(async (_, room) => {
        for (let j = 0; j < COMMANDS / COMMAND_CLIENTS; j++) {
          const instance = room * INSTANCES_PER_CLIENT + (j % INSTANCES_PER_CLIENT);
          latencies.push(await command(room, instance, `r${room}-${j}`));
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const p = (q: number) => quantile(latencies, q);
    const ok = p(0.99) < COMMAND_P99_TARGET_MS;
    console.log(
      `\ncommand round trip (${instances} instances on ${COMMAND_CLIENTS} clients, ${latencies.length} commands, ` +
        `message stored → reply stored): p50 ${p(0.5).toFixed(1)} ms, p90 ${p(0.9).toFixed(1)} ms, ` +
        `p99 ${p(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms ` +
        `(target p99 < ${COMMAND_P99_TARGET_MS} ms) ${ok ? 'ok' : 'too slow'}`,
    );
    return !ok;
  } finally {
    if (child) await stopChild(child);
    await hs.close();
  }
}

export const commandsPart: BenchPart = {
  name: 'commands',
  description: 'command round trip through 20 plugin instances on 5 clients (p99 < 50 ms)',
  run,
};
