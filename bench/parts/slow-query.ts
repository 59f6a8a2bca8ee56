/** /health while plugins and the explorer run slow instance database statements. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import { type BenchPart, DURATION_S, startBenchChild, stopChild } from '../lib';

const SLOW_INSTANCES = 2;
/** Explorer calls running `select pg_sleep(3)` at any moment, one per instance. */
const EXPLORER_CALLS = SLOW_INSTANCES;
const HEALTH_P99_TARGET_MS = 20;
const SLOW_STATEMENT = 'select pg_sleep(3)';

/**
 * While 2 plugin instances (their db.query) and 2 explorer calls each run a 3 s statement,
 * over and over, GET /health is measured with autocannon (10 connections): nothing in the
 * server waits on those statements, so its p99 stays under 20 ms.
 */
async function run(): Promise<boolean> {
  const hs = await TestHomeserver.start();
  let child: ChildProcess | undefined;
  let exploring = false;
  const explorers: Promise<void>[] = [];
  try {
    const bot = hs.registerUser('slow');
    let line: string;
    ({ child, line } = await startBenchChild(
      'slow-query.ts',
      {
        BENCH_HS_URL: hs.url,
        BENCH_TOKENS: JSON.stringify([bot.accessToken]),
        BENCH_SLOW_INSTANCES: String(SLOW_INSTANCES),
      },
      { ipc: true },
    ));
    const server = child;
    const { port, token, instances } = JSON.parse(line) as {
      port: number;
      token: string;
      instances: number;
    };
    const base = `http://127.0.0.1:${port}`;
    const active = async (): Promise<number> => {
      const reply = once(server, 'message');
      server.send('active');
      return ((await reply) as [{ active: number }])[0].active;
    };

    // The explorer keeps one slow statement running in each instance's database (beside the
    // plugin's own: an instance has two sessions at most).
    const explorerCalls: { ms: number; status: number }[] = [];
    exploring = true;
    for (let i = 0; i < EXPLORER_CALLS; i++) {
      explorers.push(
        (async () => {
          while (exploring) {
            const started = performance.now();
            const res = await fetch(`${base}/_matrix/maubot/v1/instance/slow${i}/database/query`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
              body: JSON.stringify({ query: SLOW_STATEMENT }),
            });
            await res.arrayBuffer();
            explorerCalls.push({ ms: performance.now() - started, status: res.status });
          }
        })(),
      );
    }
    const ready = Date.now() + 30_000;
    for (let n = 0; n < SLOW_INSTANCES + EXPLORER_CALLS; n = await active()) {
      if (Date.now() > ready) {
        throw new Error(
          `the slow statements did not all start (${instances} instances running, ${n} ` +
            `statements; explorer answers: ${[...new Set(explorerCalls.map((c) => c.status))].join(', ')})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const seconds = Math.max(6, DURATION_S * 2);
    const running: number[] = [];
    const sampler = setInterval(() => void active().then((n) => running.push(n)), 250);
    const result = await autocannon({
      url: `${base}/health`,
      connections: 10,
      duration: seconds,
    });
    clearInterval(sampler);
    exploring = false;
    await Promise.all(explorers);

    const p99 = result.latency.p99;
    const slowAll = running.length > 0 && Math.min(...running) >= 1;
    const explorerOk =
      explorerCalls.length > 0 && explorerCalls.every((c) => c.status === 200 && c.ms >= 3000);
    const ok =
      p99 < HEALTH_P99_TARGET_MS &&
      result.non2xx === 0 &&
      result.errors === 0 &&
      slowAll &&
      explorerOk;
    console.log(
      `\nGET /health for ${seconds} s (autocannon, 10 connections) while ${instances} plugin ` +
        `instances and ${EXPLORER_CALLS} explorer calls run "${SLOW_STATEMENT}" over and over:\n` +
        `  ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, ` +
        `p99 ${p99} ms, max ${result.latency.max} ms (target p99 < ${HEALTH_P99_TARGET_MS} ms) ` +
        `${p99 < HEALTH_P99_TARGET_MS ? 'ok' : 'too slow'}\n` +
        `  slow statements running meanwhile: ${Math.min(...running)}-${Math.max(...running)} ` +
        `(sampled ${running.length} times)${slowAll ? '' : ' - none at some point: not measured'}\n` +
        `  explorer calls: ${explorerCalls.length}, ` +
        `${(explorerCalls.reduce((s, c) => s + c.ms, 0) / Math.max(1, explorerCalls.length) / 1000).toFixed(1)} s each on average` +
        `${explorerOk ? '' : ' - some failed or returned early'}`,
    );
    return !ok;
  } finally {
    exploring = false;
    await Promise.allSettled(explorers);
    if (child) await stopChild(child);
    await hs.close();
  }
}

export const slowQueryPart: BenchPart = {
  name: 'slow-query',
  description: '/health while plugins and the explorer run 3 s database statements (p99 < 20 ms)',
  run,
};
