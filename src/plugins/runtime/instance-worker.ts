import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../logging/logger';
import type { FromWorker, HostEvent, HostMethod, ToWorker, WorkerBoot } from './worker-protocol';

/** What a plugin may ask of the host: Matrix through the instance's client, its database. */
export type PluginHost = Record<HostMethod, (...args: unknown[]) => Promise<unknown>>;

export interface WorkerLimits {
  /** V8 old-generation heap of one instance. */
  memoryMb: number;
  /** An instance that does not answer a ping for this long is stuck (an endless loop). */
  stallMs: number;
  /** Time for the plugin's start() to finish. */
  startMs: number;
}

const PING_MS = 500;
const STOP_GRACE_MS = 5_000;

/**
 * The compiled worker, or (from the TypeScript sources, in development and tests) a bootstrap
 * that compiles it on the fly as CommonJS, like the rest of the sources.
 */
function workerEntry(): { code: string; eval: boolean } {
  const js = join(__dirname, 'plugin-worker.js');
  if (existsSync(js)) return { code: js, eval: false };
  const ts = join(__dirname, 'plugin-worker.ts');
  return { code: `require('tsx/cjs'); require(${JSON.stringify(ts)});`, eval: true };
}

export class PluginStartError extends Error {
  override name = 'PluginStartError';
}

/**
 * One running plugin instance in its own worker thread. The thread has a memory limit and a
 * watchdog; when it dies or stalls it is terminated and `onEnd` says why. The server and other
 * instances are not affected.
 */
export class InstanceWorker {
  private readonly worker: Worker;
  private lastPong = Date.now();
  private pingN = 0;
  private watchdog?: NodeJS.Timeout;
  private ended = false;
  private endListeners: ((reason: string) => void)[] = [];
  private stopped?: () => void;

  private constructor(
    boot: WorkerBoot,
    private readonly host: PluginHost,
    private readonly logger: Logger,
    private readonly limits: WorkerLimits,
  ) {
    const entry = workerEntry();
    this.worker = new Worker(entry.code, {
      eval: entry.eval,
      workerData: boot,
      // The server's environment (database URL, secrets) is none of a plugin's business.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
    });
    // A plugin's console output goes to its log, not the server's stdout.
    this.worker.stdout.on('data', (d: Buffer) => this.logger.info(d.toString('utf8').trimEnd()));
    this.worker.stderr.on('data', (d: Buffer) => this.logger.warn(d.toString('utf8').trimEnd()));
  }

  /** Starts the thread and the plugin; rejects with why it did not start. */
  static async start(
    boot: WorkerBoot,
    host: PluginHost,
    logger: Logger,
    limits: WorkerLimits,
  ): Promise<InstanceWorker> {
    const instance = new InstanceWorker(boot, host, logger, limits);
    await instance.boot();
    return instance;
  }

  /** Called once when the instance ends without being asked to (crash, memory, stall). */
  onEnd(listener: (reason: string) => void): void {
    this.endListeners.push(listener);
  }

  dispatch(event: HostEvent): void {
    this.send({ kind: 'event', event });
  }

  updateConfig(config: Record<string, unknown>): void {
    this.send({ kind: 'config', config });
  }

  /** Lets the plugin's stop() run (bounded), then ends the thread. */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.watchdog);
    const done = new Promise<void>((resolve) => {
      this.stopped = resolve;
      setTimeout(resolve, STOP_GRACE_MS).unref();
    });
    this.send({ kind: 'stop' });
    await done;
    await this.worker.terminate();
  }

  private boot(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let starting = true;
      const timer = setTimeout(() => {
        if (!starting) return;
        starting = false;
        void this.kill();
        reject(new PluginStartError(`start() did not finish within ${this.limits.startMs} ms`));
      }, this.limits.startMs);
      this.worker.on('message', (message: FromWorker) => {
        if (message.kind === 'started' && starting) {
          starting = false;
          clearTimeout(timer);
          this.startWatchdog();
          resolve();
        } else if (message.kind === 'start-failed' && starting) {
          starting = false;
          clearTimeout(timer);
          void this.kill();
          reject(new PluginStartError(message.error));
        } else {
          this.onMessage(message);
        }
      });
      this.worker.on('error', (err: Error) => {
        const reason = this.describeError(err);
        if (starting) {
          starting = false;
          clearTimeout(timer);
          this.ended = true;
          reject(new PluginStartError(reason));
        } else {
          this.end(reason);
        }
      });
      this.worker.on('exit', (code) => {
        if (starting) {
          starting = false;
          clearTimeout(timer);
          this.ended = true;
          reject(new PluginStartError(`the plugin's thread exited with code ${code}`));
        } else {
          this.end(`the plugin's thread exited with code ${code}`);
        }
      });
      this.send({ kind: 'start' });
    });
  }

  private describeError(err: Error & { code?: string }): string {
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return `it used more than its memory limit of ${this.limits.memoryMb} MB`;
    }
    return err.stack ?? err.message;
  }

  private startWatchdog(): void {
    this.lastPong = Date.now();
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastPong > this.limits.stallMs) {
        this.end(`it did not respond for ${this.limits.stallMs} ms (an endless loop?)`);
        return;
      }
      this.send({ kind: 'ping', n: ++this.pingN });
    }, PING_MS);
    this.watchdog.unref();
  }

  private onMessage(message: FromWorker): void {
    switch (message.kind) {
      case 'pong':
        this.lastPong = Date.now();
        break;
      case 'log':
        this.logger[message.level](message.fields ?? {}, message.msg);
        break;
      case 'stopped':
        this.stopped?.();
        break;
      case 'call':
        this.host[message.method](...message.args).then(
          (value) => this.send({ kind: 'result', id: message.id, ok: true, value }),
          (err: unknown) =>
            this.send({
              kind: 'result',
              id: message.id,
              ok: false,
              error: err instanceof Error ? err.message : String(err),
            }),
        );
        break;
      default:
        break;
    }
  }

  /** The instance ended on its own: terminate what is left and tell the owner once. */
  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.watchdog);
    void this.kill();
    for (const listener of this.endListeners) listener(reason);
  }

  private async kill(): Promise<void> {
    clearInterval(this.watchdog);
    await this.worker.terminate();
  }

  private send(message: ToWorker): void {
    if (this.ended && message.kind !== 'stop') return;
    this.worker.postMessage(message);
  }
}
