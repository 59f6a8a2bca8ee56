/**
 * Child process of the benchmark: Switchboard's services on the embedded database, then N
 * Matrix clients created through the client service against the homeserver the parent runs.
 * Reports RSS and heap before and after, with every client synced and idle.
 * Input (env): BENCH_HS_URL, BENCH_TOKENS (JSON list of access tokens).
 */
import type { Database } from '../src/db/database';
import { embeddedServices } from './embedded-services';
import type { Services } from '../src/app/services';
import { runBenchChild } from './child';

const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);

function settle(): void {
  for (let i = 0; i < 3; i++) global.gc?.();
}

async function main(): Promise<void> {
  const homeserver = process.env.BENCH_HS_URL!;
  const tokens = JSON.parse(process.env.BENCH_TOKENS!) as string[];
  const {
    db,
    switchboard,
    services: { clients },
  } = await embeddedServices('clients');

  // One client first, so what every client shares (code compiled on first use) is baseline.
  await clients.create({ homeserver, access_token: tokens[0]! });
  await waitSynced(clients, db, 1);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  settle();
  const before = { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed };

  const started = performance.now();
  for (const token of tokens.slice(1)) await clients.create({ homeserver, access_token: token });
  await waitSynced(clients, db, tokens.length);
  const startMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  settle();
  const after = { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed };

  process.stdout.write(
    JSON.stringify({
      clients: tokens.length - 1,
      rssPerClient: (after.rss - before.rss) / (tokens.length - 1),
      heapPerClient: (after.heap - before.heap) / (tokens.length - 1),
      rssTotal: after.rss,
      startMs,
    }) + '\n',
  );
  await switchboard.stop();
  await db.close();
  process.exit(0);
}

/** Every client started, syncing fine and past its first sync (a stored sync token). */
async function waitSynced(
  clients: Services['clients'],
  db: Database,
  count: number,
): Promise<void> {
  for (;;) {
    const running = (await clients.list()).filter((c) => c.started && c.sync_ok).length;
    const [row] = await db.knex('client').whereNot('next_batch', '').count({ n: '*' });
    if (running >= count && Number(row?.n) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

runBenchChild(main);
