/** Resident memory per idle synced Matrix client. */
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import { SERVER_NODE_FLAGS, mib, spawn, type BenchPart } from '../lib';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const CLIENT_RSS_TARGET = 10 * 1024 * 1024;

/**
 * Resident memory per idle, synced Matrix client: the homeserver runs here, the clients in a
 * child process that measures itself before and after adding them.
 */
async function run(): Promise<boolean> {
  const hs = await TestHomeserver.start();
  try {
    const owner = hs.registerUser('bench-owner');
    const users = Array.from({ length: CLIENTS + 1 }, (_, i) => hs.registerUser(`bench${i}`));
    // Each bot idles in a room with a little history, as a deployed bot would.
    const rooms = await Promise.all(
      users.map(async (user) => {
        const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${owner.accessToken}` },
          body: JSON.stringify({ invite: [user.userId] }),
        });
        return ((await res.json()) as { room_id: string }).room_id;
      }),
    );
    void rooms;
    const child = spawn(
      process.execPath,
      [...SERVER_NODE_FLAGS, '--expose-gc', '--import', 'tsx', join(__dirname, '..', 'clients.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          BENCH_HS_URL: hs.url,
          BENCH_TOKENS: JSON.stringify(users.map((u) => u.accessToken)),
        },
      },
    );
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const result = JSON.parse(line) as {
      clients: number;
      rssPerClient: number;
      heapPerClient: number;
      rssTotal: number;
      startMs: number;
    };
    const ok = result.rssPerClient < CLIENT_RSS_TARGET;
    console.log(
      `
${result.clients} idle synced Matrix clients (each joined to a room): ` +
        `${mib(result.rssPerClient)} RSS each, ${mib(result.heapPerClient)} JS heap each ` +
        `(target < ${mib(CLIENT_RSS_TARGET)}) ${ok ? 'ok' : 'too much'}; ` +
        `started and synced in ${(result.startMs / 1000).toFixed(1)} s, process RSS ${mib(result.rssTotal)}`,
    );
    return !ok;
  } finally {
    await hs.close();
  }
}

export const clientsPart: BenchPart = {
  name: 'clients',
  description: 'RSS per idle synced Matrix client at BENCH_CLIENTS clients (< 10 MiB each)',
  run,
};
