/**
 * Child process of the transformation benchmark, run compiled (as `npm start` runs): what a new
 * transformation runner costs. Prints one JSON line: the first call on a fresh runner (start
 * plus call) and warm calls, in ms, and the longest the main thread's event loop was held up
 * while runners started and during warm calls.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TransformationRunner } from '../src/webhooks/transformation';
import { median, quantile } from './lib';
import { runBenchChild } from './child';

const FRESH = 10;
const WARM = 200;
const CODE = 'result = {version: "v2", plain: "**" + data.n + "** ok"};';

async function main(): Promise<void> {
  const runner = await TransformationRunner.create({
    memoryMb: 16,
    timeoutMs: 500,
    maxResultBytes: 262_144,
    runners: 1,
    queueSize: 64,
    queuePerHook: 16,
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const fresh: number[] = [];
  delay.enable();
  for (let i = 0; i < FRESH; i++) {
    const started = performance.now();
    await runner.run('hook', CODE, { n: i });
    fresh.push(performance.now() - started);
    await Promise.all(runner.workers().map((w) => w.terminate()));
  }
  delay.disable();
  const loopDelayMaxMs = delay.max / 1e6;
  // The same measure without starts, for comparison (a busy machine delays the loop too).
  delay.reset();
  delay.enable();
  const warm: number[] = [];
  for (let i = 0; i < WARM; i++) {
    const started = performance.now();
    await runner.run('hook', CODE, { n: i });
    warm.push(performance.now() - started);
  }
  delay.disable();
  warm.sort((a, b) => a - b);
  await runner.close();
  process.stdout.write(
    `${JSON.stringify({
      fresh: FRESH,
      freshMs: median(fresh),
      warmP50Ms: quantile(warm, 0.5),
      warmP99Ms: quantile(warm, 0.99),
      loopDelayMaxMs,
      warmLoopDelayMaxMs: delay.max / 1e6,
    })}\n`,
  );
}

runBenchChild(main);
