import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import { workerEntry } from '../util/worker-entry';
import type { TransformResult } from './transformation-result';
import { compileQuickJSModule, type SandboxLimits } from './transformation-sandbox';
import type { RunnerBoot, RunnerCall, RunnerReply } from './transformation-worker';

export type { TransformResult, WebhookResponse } from './transformation-result';

/** A transformation function that does not compile, fails, runs too long or returns garbage. */
export class TransformationError extends Error {
  override name = 'TransformationError';
}

/** Too many calls wait for a runner (over all hooks, or for this hook): try again later. */
export class TransformationBusyError extends Error {
  override name = 'TransformationBusyError';
}

export interface TransformationLimits extends SandboxLimits {
  /** Worker threads running QuickJS at most. */
  runners: number;
  /** Calls waiting for a runner, over all hooks. */
  queueSize: number;
  /** Calls of one hook waiting for a runner (a hook's calls run one at a time, in order). */
  queuePerHook: number;
}

/** After the script's own time is up, how long a runner may take to answer before it is killed. */
const KILL_GRACE_MS = 250;
/** A runner with nothing to do for this long is stopped, giving its memory back. */
const IDLE_MS = 60_000;
/** Time for a new runner to load QuickJS (generous: in development the entry is compiled). */
const START_MS = 30_000;
// The runner's own JavaScript heap: the payload and result texts and the rendered message.
const RUNNER_HEAP_MB = 48;
/** Hooks whose recent cost is remembered. */
const MAX_COSTS = 10_000;

interface Call {
  id: number;
  key: string;
  message: RunnerCall;
  /** When it went to a runner. */
  started?: number;
  resolve(result: TransformResult | undefined): void;
  reject(err: Error): void;
}

interface Runner {
  worker: Worker;
  ready: boolean;
  /** Being terminated: takes no more calls. */
  ending: boolean;
  call?: Call;
  /** Why the call in flight failed, if the runner ends with one. */
  reason?: string;
  timer?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

/**
 * Runs hookshot transformation functions off the main thread: a small pool of worker threads,
 * each with QuickJS in a fixed-size WebAssembly memory, reused between calls. A call that
 * overruns its time is interrupted inside QuickJS, and its runner is terminated if it does not
 * answer soon after; a runner whose memory grew or whose module failed is replaced. Calls of one
 * hook run one at a time and in order; hooks take turns, those whose calls lately used up their
 * time or memory after the others. Waiting calls are bounded (beyond that `run` throws
 * TransformationBusyError at once).
 */
export class TransformationRunner {
  private readonly runners = new Set<Runner>();
  /** Waiting calls by hook, in turn order (a hook goes to the back when it gets a runner). */
  private readonly queues = new Map<string, Call[]>();
  /** Hooks with a call on a runner, and whether that hook counted as heavy then. */
  private readonly busyKeys = new Map<string, boolean>();
  /**
   * What a hook's calls have cost lately (ms): the latest call's time, or the previous figure
   * decaying by a fifth per call if that is more. A call that used up its runner (its memory,
   * or killed) counts as the whole time limit.
   */
  private readonly costs = new Map<string, number>();
  private waiting = 0;
  private nextId = 0;
  private closed = false;
  private started = 0;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly limits: TransformationLimits,
    private readonly logger?: Logger,
  ) {}

  static async create(
    limits: TransformationLimits,
    logger?: Logger,
  ): Promise<TransformationRunner> {
    return new TransformationRunner(await compileQuickJSModule(), limits, logger);
  }

  /** Checks the syntax without running anything; rejects with TransformationError. */
  async compile(code: string): Promise<void> {
    const id = ++this.nextId;
    // Compiles come from authenticated provisioning requests, a few at a time: never refused.
    await this.enqueue(`\0compile ${id}`, { id, kind: 'compile', code });
  }

  /**
   * Runs the script on the payload. Throws TransformationBusyError at once (not through the
   * promise) when the queue is full; the promise rejects with TransformationError.
   */
  run(hookKey: string, code: string, data: unknown): Promise<TransformResult> {
    const queued = this.queues.get(hookKey)?.length ?? 0;
    if (this.waiting >= this.limits.queueSize || queued >= this.limits.queuePerHook) {
      throw new TransformationBusyError('Too many transformations are waiting');
    }
    const id = ++this.nextId;
    const input = JSON.stringify(data) ?? 'null';
    return this.enqueue(hookKey, { id, kind: 'run', code, input }).then((result) => result!);
  }

  /** Stops every runner; waiting and running calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const calls of this.queues.values()) {
      for (const call of calls) call.reject(new TransformationError('The server is stopping'));
    }
    this.queues.clear();
    this.waiting = 0;
    await Promise.all(
      [...this.runners].map((runner) => {
        runner.reason = 'The server is stopping';
        return this.end(runner);
      }),
    );
  }

  /** Runner threads started so far (for diagnostics and tests). */
  get spawned(): number {
    return this.started;
  }

  /** The runners' threads (for diagnostics and tests). */
  workers(): Worker[] {
    return [...this.runners].map((r) => r.worker);
  }

  private enqueue(key: string, message: RunnerCall): Promise<TransformResult | undefined> {
    if (this.closed) return Promise.reject(new TransformationError('The server is stopping'));
    return new Promise((resolve, reject) => {
      const calls = this.queues.get(key) ?? [];
      calls.push({ id: message.id, key, message, resolve, reject });
      this.queues.set(key, calls);
      this.waiting++;
      this.dispatch();
    });
  }

  /** A hook whose calls lately took a quarter of the time limit or more. */
  private isHeavy(key: string): boolean {
    return (this.costs.get(key) ?? 0) >= this.limits.timeoutMs / 4;
  }

  /**
   * The next hook to run, if any: light hooks first, in turn; a heavy one only while the other
   * heavy hooks running leave a runner free for light ones (so hooks that loop or allocate
   * cannot hold every runner).
   */
  private nextKey(): string | undefined {
    let heavy: string | undefined;
    for (const key of this.queues.keys()) {
      if (this.busyKeys.has(key)) continue;
      if (!this.isHeavy(key)) return key;
      heavy ??= key;
    }
    if (heavy === undefined) return undefined;
    let heavyRunning = 0;
    for (const wasHeavy of this.busyKeys.values()) if (wasHeavy) heavyRunning++;
    return heavyRunning < Math.max(1, this.limits.runners - 1) ? heavy : undefined;
  }

  /** `exhausted`: the call used up its runner (memory, a failure, its time). */
  private noteCost(call: Call, exhausted: boolean): void {
    if (call.message.kind === 'compile') return;
    const took = call.started === undefined ? 0 : Date.now() - call.started;
    const sample = exhausted ? Math.max(took, this.limits.timeoutMs) : took;
    const previous = (this.costs.get(call.key) ?? 0) * 0.8;
    this.costs.delete(call.key);
    if (Math.max(sample, previous) >= 1) this.costs.set(call.key, Math.max(sample, previous));
    // Bounded: the least recently used hooks are forgotten first.
    if (this.costs.size > MAX_COSTS) this.costs.delete(this.costs.keys().next().value!);
  }

  private dispatch(): void {
    for (;;) {
      const key = this.nextKey();
      if (key === undefined) return;
      const runner = [...this.runners].find((r) => r.ready && !r.ending && !r.call);
      if (!runner) {
        this.startRunners();
        return;
      }
      const calls = this.queues.get(key)!;
      const call = calls.shift()!;
      this.queues.delete(key);
      if (calls.length > 0) this.queues.set(key, calls);
      this.waiting--;
      this.busyKeys.set(key, this.isHeavy(key));
      this.assign(runner, call);
    }
  }

  /** Starts runners for the hooks that could run now, up to the limit. */
  private startRunners(): void {
    let runnable = 0;
    for (const key of this.queues.keys()) if (!this.busyKeys.has(key)) runnable++;
    const live = [...this.runners].filter((r) => !r.ending);
    let starting = live.filter((r) => !r.ready).length;
    let count = live.length;
    while (starting < runnable && count < this.limits.runners) {
      this.spawn();
      starting++;
      count++;
    }
  }

  private assign(runner: Runner, call: Call): void {
    clearTimeout(runner.idle);
    runner.call = call;
    call.started = Date.now();
    runner.timer = setTimeout(() => {
      runner.reason = `Transformation function exceeded ${this.limits.timeoutMs} ms`;
      void this.end(runner);
    }, this.limits.timeoutMs + KILL_GRACE_MS);
    runner.worker.postMessage(call.message);
  }

  private spawn(): void {
    const entry = workerEntry(__dirname, 'transformation-worker');
    const boot: RunnerBoot = {
      module: this.module,
      limits: {
        memoryMb: this.limits.memoryMb,
        timeoutMs: this.limits.timeoutMs,
        maxResultBytes: this.limits.maxResultBytes,
      },
    };
    const worker = new Worker(entry.code, {
      eval: entry.eval,
      workerData: boot,
      // Nothing of the server's environment is any business of the runner.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: RUNNER_HEAP_MB, maxYoungGenerationSizeMb: 8 },
    });
    // An idle runner does not keep the process alive.
    worker.unref();
    this.started++;
    const runner: Runner = { worker, ready: false, ending: false };
    this.runners.add(runner);
    const startTimer = setTimeout(() => {
      runner.reason = 'The transformation runner did not start in time';
      void this.end(runner);
    }, START_MS);
    worker.on('message', (reply: RunnerReply) => {
      if (reply.kind === 'ready') {
        clearTimeout(startTimer);
        runner.ready = true;
        this.dispatch();
        this.idleUnlessBusy(runner);
        return;
      }
      this.finish(runner, reply);
    });
    worker.on('error', (err: Error) => {
      // Its heap limit, or a failure of the runner's own code: it exits next.
      runner.reason ??= `The transformation runner failed: ${err.message}`;
    });
    worker.on('exit', () => {
      clearTimeout(startTimer);
      this.exited(runner);
    });
  }

  private finish(runner: Runner, reply: Extract<RunnerReply, { kind: 'done' }>): void {
    const call = runner.call;
    if (!call || call.id !== reply.id) return;
    clearTimeout(runner.timer);
    runner.call = undefined;
    this.busyKeys.delete(call.key);
    this.noteCost(call, reply.retire);
    if (reply.ok) call.resolve(reply.result);
    else call.reject(new TransformationError(reply.error));
    if (reply.retire) void this.end(runner);
    else this.idleUnlessBusy(runner);
    this.dispatch();
  }

  private idleUnlessBusy(runner: Runner): void {
    if (runner.call || runner.ending) return;
    clearTimeout(runner.idle);
    runner.idle = setTimeout(() => void this.end(runner), IDLE_MS);
    runner.idle.unref();
  }

  /** Terminates a runner; its call in flight (if any) fails with the runner's reason. */
  private async end(runner: Runner): Promise<void> {
    runner.ending = true;
    this.failCall(runner);
    clearTimeout(runner.idle);
    await runner.worker.terminate();
  }

  private failCall(runner: Runner): void {
    const call = runner.call;
    if (!call) return;
    clearTimeout(runner.timer);
    runner.call = undefined;
    this.busyKeys.delete(call.key);
    this.noteCost(call, true);
    const reason = runner.reason ?? 'The transformation runner stopped during the call';
    call.reject(new TransformationError(reason));
    this.logger?.warn({ hook: call.key, reason }, 'transformation runner ended during a call');
  }

  private exited(runner: Runner): void {
    const startFailed = !runner.ready && !runner.ending;
    runner.ending = true;
    this.failCall(runner);
    clearTimeout(runner.idle);
    this.runners.delete(runner);
    if (this.closed) return;
    if (startFailed) {
      // Starting again at once would fail the same way: the waiting calls fail instead.
      const reason = runner.reason ?? 'The transformation runner could not start';
      this.logger?.error({ reason }, 'transformation runner did not start');
      for (const calls of this.queues.values()) {
        for (const call of calls) call.reject(new TransformationError(reason));
      }
      this.queues.clear();
      this.waiting = 0;
      return;
    }
    this.dispatch();
  }
}
