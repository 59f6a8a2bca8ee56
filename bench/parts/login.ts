/** /health while 40 logins are checked at once: bcrypt must not hold up the event loop. */
import { quantile, startServers, type BenchPart } from '../lib';

const LOGINS = 40;
const TARGET_P99_MS = 50;

async function run(): Promise<boolean> {
  // Unpinned: the thread pool's bcrypt threads and the event loop may use both cores.
  const servers = await startServers({ pin: false });
  try {
    const base = `http://127.0.0.1:${servers.info.switchboardPort}`;
    const health = async (): Promise<number> => {
      const start = performance.now();
      await (await fetch(`${base}/health`)).arrayBuffer();
      return performance.now() - start;
    };
    for (let i = 0; i < 20; i++) await health(); // warm-up
    let running = true;
    // Unknown names: each costs a real comparison against a cost-12 decoy hash.
    const logins = Promise.all(
      Array.from({ length: LOGINS }, (_, i) =>
        fetch(`${base}/_matrix/maubot/v1/auth/login`, {
          method: 'POST',
          body: JSON.stringify({ username: `bench${i}`, password: 'wrong' }),
        }).then((r) => r.arrayBuffer()),
      ),
    ).finally(() => (running = false));
    const times: number[] = [];
    const started = performance.now();
    while (running) times.push(await health());
    await logins;
    const elapsed = performance.now() - started;
    times.sort((a, b) => a - b);
    const p99 = quantile(times, 0.99);
    console.log(
      `${LOGINS} concurrent logins took ${elapsed.toFixed(0)} ms; /health meanwhile: ` +
        `${times.length} requests, p50 ${quantile(times, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ` +
        `max ${times.at(-1)!.toFixed(1)} ms (target p99 < ${TARGET_P99_MS} ms) ` +
        (p99 < TARGET_P99_MS ? 'ok' : 'too slow'),
    );
    return p99 >= TARGET_P99_MS;
  } finally {
    servers.stop();
  }
}

export const loginPart: BenchPart = {
  name: 'login',
  description: `/health latency while ${LOGINS} password logins are checked at once`,
  run,
};
