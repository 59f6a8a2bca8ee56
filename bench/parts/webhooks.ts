/** Inbound webhooks: ingest against bare express, delivery into rooms with per-room order. */
import autocannon from 'autocannon';
import { DURATION_S, ROUNDS, median, quantile, type BenchPart, type Measurement } from '../lib';
import { startWebhookProcesses } from '../webhook-processes';

const HOOK_ROOMS = 50;
const HOOK_CONCURRENCY = 50;
const HOOK_MESSAGES_PER_ROOM = Number(process.env.BENCH_HOOK_MESSAGES ?? 40);
const HOOK_TARGET_RATIO = 0.5;
const HOOK_P99_TARGET_MS = 25;

/**
 * Inbound webhooks: ingest throughput and latency at concurrency 50 against a bare express
 * endpoint (alternating rounds spread over 50 hooks in 50 rooms; each round waits until every
 * accepted post is a message in its room), then delivery: 50 senders each post to their own
 * hook one after another, and every message must reach its room in the order it was received.
 * The homeserver runs in a process of its own, so its work does not slow the load generator.
 */
async function run(): Promise<boolean> {
  const info = await startWebhookProcesses({ rooms: HOOK_ROOMS });
  try {
    const { delivered } = info;

    const ingest = async (port: number, seconds = DURATION_S): Promise<Measurement> => {
      const result = await autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: HOOK_CONCURRENCY,
        duration: seconds,
        requests: info.hooks.map((path) => ({
          method: 'POST' as const,
          path,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: 'bench' }),
        })),
      });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `webhook ingest: ${result.non2xx} non-2xx answers, ${result.errors} errors`,
        );
      }
      return {
        rps: result.requests.average,
        p99: result.latency.p99,
        total: result.requests.total,
      };
    };
    let ingested = 0;
    // Every accepted post becomes a message; the next round starts once all are in their rooms.
    const drain = async (): Promise<number> => {
      const start = performance.now();
      while ((await delivered()) < ingested && performance.now() - start < 180_000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return (performance.now() - start) / 1000;
    };
    await ingest(info.barePort, 1);
    ingested += (await ingest(info.switchboardPort, 1)).total!; // warm-up
    await drain();
    const rounds: { base: Measurement; ours: Measurement }[] = [];
    const drains: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const base = await ingest(info.barePort);
      const ours = await ingest(info.switchboardPort);
      ingested += ours.total!;
      rounds.push({ base, ours });
      drains.push(await drain());
    }
    const ratio = median(rounds.map((r) => r.ours.rps / r.base.rps));
    const p99 = median(rounds.map((r) => r.ours.p99));
    const allIngested = (await delivered()) >= ingested;
    // Sustained delivery: a round's messages over the round plus the time to deliver the rest.
    const sustained = median(rounds.map((r, i) => r.ours.total! / (DURATION_S + drains[i]!)));

    // Delivery: each sender posts to its own room's hook, waiting for each answer.
    const sent = new Map<string, number>();
    const clock = () => performance.timeOrigin + performance.now();
    const started = clock();
    await info.postNumbered(HOOK_MESSAGES_PER_ROOM, (key) => sent.set(key, clock()));
    const total = HOOK_ROOMS * HOOK_MESSAGES_PER_ROOM;
    let report = await info.arrivals();
    const waitStart = performance.now();
    while (Object.keys(report.arrivals).length < total && performance.now() - waitStart < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      report = await info.arrivals();
    }
    const arrivals = Object.entries(report.arrivals);
    const elapsedS = (Math.max(...arrivals.map(([, at]) => at)) - started) / 1000;
    const latencies = arrivals.map(([key, at]) => at - sent.get(key)!).sort((a, b) => a - b);
    const p = (q: number) => quantile(latencies, q);
    const ok =
      ratio >= HOOK_TARGET_RATIO &&
      p99 < HOOK_P99_TARGET_MS &&
      allIngested &&
      arrivals.length === total &&
      report.inOrder;
    console.log(
      `\nwebhook ingest, ${HOOK_CONCURRENCY} connections over ${HOOK_ROOMS} hooks, ${ROUNDS} rounds of ` +
        `${DURATION_S} s: bare ${median(rounds.map((r) => r.base.rps)).toFixed(0)} req/s ` +
        `(p99 ${median(rounds.map((r) => r.base.p99))} ms), ` +
        `switchboard ${median(rounds.map((r) => r.ours.rps)).toFixed(0)} req/s (p99 ${p99} ms), ` +
        `ratio ${ratio.toFixed(2)} (target >= ${HOOK_TARGET_RATIO}, p99 < ${HOOK_P99_TARGET_MS} ms) ` +
        `${ratio >= HOOK_TARGET_RATIO && p99 < HOOK_P99_TARGET_MS ? 'ok' : 'too slow'}`,
    );
    console.log(
      `  every accepted post became a message in its room: ${allIngested ? 'yes' : 'NO'}; ` +
        `sustained (a round's posts over the round plus the time to deliver them all) ` +
        `${sustained.toFixed(0)} messages/s`,
    );
    console.log(
      `webhook delivery, ${HOOK_ROOMS} senders x ${HOOK_MESSAGES_PER_ROOM} posts (post sent → message ` +
        `stored on the homeserver): ${arrivals.length}/${total} delivered at ` +
        `${(arrivals.length / elapsedS).toFixed(0)} messages/s, p50 ${p(0.5).toFixed(1)} ms, ` +
        `p99 ${p(0.99).toFixed(1)} ms; per-room order ${report.inOrder ? 'kept' : 'BROKEN'}`,
    );
    return !ok;
  } finally {
    await info.stop();
  }
}

export const webhooksPart: BenchPart = {
  name: 'webhooks',
  description: 'webhook ingest at concurrency 50 vs bare express (>= 0.5x, p99 < 25 ms), delivery',
  run,
};
