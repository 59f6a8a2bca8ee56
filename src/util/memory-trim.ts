import { performance } from 'node:perf_hooks';

/** What the trim needs of the process: injectable so that its decisions can be tested. */
export interface TrimProbe {
  /** The collector with V8's options, when the process runs with `--expose-gc`. */
  gc: ((options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void) | undefined;
  rss(): number;
  /** Share of the last interval the event loop was busy, 0 to 1. */
  busy(): number;
}

export interface MemoryTrimOptions {
  /** How often the loop is looked at. */
  intervalMs?: number;
  /** Below this share of busy time an interval counts as idle. */
  idleBelow?: number;
  /** RSS growth since the last trim that makes another one worth its pause. */
  growthBytes?: number;
  onTrim?: (before: number, after: number) => void;
}

const MiB = 1024 * 1024;

/**
 * Gives memory back once the server goes idle after work. V8 keeps the young generation at
 * its high-water size and the old generation's emptied pages committed, and array buffers
 * wait for a full collection: after a start or a burst, an idle server held about 45 MB more
 * than it uses. `--optimize-for-size` kept it small but halved request throughput and raised
 * the p99 sixfold, so instead a memory-reducing collection runs once the event loop has been
 * idle for an interval and RSS grew since the last one; a busy server is never paused by it.
 */
export class MemoryTrim {
  private readonly intervalMs: number;
  private readonly idleBelow: number;
  private readonly growthBytes: number;
  private afterLastTrim = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly probe: TrimProbe,
    private readonly options: MemoryTrimOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.idleBelow = options.idleBelow ?? 0.05;
    this.growthBytes = options.growthBytes ?? 16 * MiB;
  }

  /** False when the process has no exposed collector: then nothing is ever trimmed. */
  get available(): boolean {
    return this.probe.gc !== undefined;
  }

  start(): void {
    if (!this.available || this.timer) return;
    this.probe.busy(); // starts the first interval
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the process: trims when it was idle and has grown. Returns whether it did. */
  check(): boolean {
    const gc = this.probe.gc;
    if (!gc || this.probe.busy() >= this.idleBelow) return false;
    const before = this.probe.rss();
    if (before - this.afterLastTrim < this.growthBytes) return false;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.afterLastTrim = this.probe.rss();
    this.options.onTrim?.(before, this.afterLastTrim);
    return true;
  }
}

/** The probe of this process. */
export function processTrimProbe(): TrimProbe {
  let last = performance.eventLoopUtilization();
  return {
    gc: (globalThis as { gc?: TrimProbe['gc'] }).gc,
    rss: () => process.memoryUsage.rss(),
    busy: () => {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return share;
    },
  };
}

/**
 * After megabytes went through short-lived buffers (an upload, spooled, hashed and copied into
 * the database): a young-generation collection frees them at once. Their memory lies outside
 * the JavaScript heap, so the heap itself sees little allocation and V8 would wait until they
 * add up to tens of megabytes, which also made the uploads slower. Needs `--expose-gc`.
 */
export function releaseStreamBuffers(): void {
  (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc?.({ type: 'minor' });
}
