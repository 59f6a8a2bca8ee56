import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../../logging/logger';
import {
  FrameDecoder,
  FrameError,
  HOST_METHODS,
  LOG_LEVELS,
  encodeFrame,
  type HostEvent,
  type HostMethod,
  type InstanceBoot,
  type LoadMessage,
  type ToHost,
} from './host-protocol';
import type { HostSandbox } from './host-sandbox';
import { RateLimit } from './rate-limit';

export interface HostLimits {
  /** The host's whole resident memory: JavaScript heap, buffers, code. */
  memoryMb: number;
  /** A host that does not answer a ping for this long is stuck (an endless loop). */
  stallMs: number;
  /** Time for loading the plugin, and for each instance's start(). */
  startMs: number;
  callsPerSecond: number;
  callBurst: number;
  logsPerSecond: number;
  logBurst: number;
}

export interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** What one instance reaches on the server: its client, its database, its log. */
export interface InstancePort {
  logger: Logger;
  sendEvent(roomId: string, type: string, content: Record<string, unknown>): Promise<string>;
  getState(roomId: string, type: string, stateKey: string): Promise<Record<string, unknown> | null>;
  dbQuery(sql: string, params: unknown[]): Promise<QueryResult>;
}

export class PluginStartError extends Error {
  override name = 'PluginStartError';
}

const PING_MS = 500;
const MEMORY_CHECK_MS = 100;
const MEMORY_CHECK_CLOSE_MS = 10;
const STOP_GRACE_MS = 5_000;
const EXIT_GRACE_MS = 2_000;
/** Largest message a host may send: far above a Matrix event (64 KiB) or a sane query. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Beyond this many messages in a window, reading from the host pauses until the next one. */
const WINDOW_MS = 100;
const MESSAGES_PER_WINDOW = 2_000;
/** A log record's text, its fields (as JSON), and a line of console output, at most. */
const MAX_LOG_TEXT = 4096;
/** Share of the memory limit given to the JavaScript heap; the rest is code and buffers. */
const HEAP_SHARE = 0.75;

/** Keys of a log record that the server sets: a plugin's fields cannot replace them. */
const RESERVED_FIELDS = new Set([
  'level',
  'time',
  'msg',
  'name',
  'logger',
  'pid',
  'hostname',
  'err',
  'id',
  'levelname',
  'levelno',
  'module',
  'pathname',
  'filename',
  'lineno',
  'funcName',
  'exc_info',
]);

const instanceId = z.string().min(1).max(255);
/** Everything a host sends is checked: it runs plugin code, which may write to the channel. */
const fromHost = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('ready') }),
  z.strictObject({ kind: z.literal('load-failed'), error: z.string() }),
  z.strictObject({ kind: z.literal('started'), instanceId }),
  z.strictObject({ kind: z.literal('start-failed'), instanceId, error: z.string() }),
  z.strictObject({ kind: z.literal('stopped'), instanceId }),
  z.strictObject({ kind: z.literal('pong'), n: z.number() }),
  z.strictObject({
    kind: z.literal('call'),
    id: z.number().int(),
    instanceId,
    method: z.enum(HOST_METHODS),
    args: z.array(z.unknown()),
  }),
  z.strictObject({
    kind: z.literal('log'),
    instanceId,
    level: z.enum(LOG_LEVELS),
    msg: z.string(),
    fields: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({ kind: z.literal('dropped'), instanceId, what: z.enum(['calls', 'logs']) }),
]);
type FromHostMessage = z.infer<typeof fromHost>;

const callArgs = {
  sendEvent: z.tuple([z.string(), z.string(), z.record(z.string(), z.unknown())]),
  getState: z.tuple([z.string(), z.string(), z.string()]),
  dbQuery: z.tuple([z.string(), z.array(z.unknown())]),
} satisfies Record<HostMethod, z.ZodType>;

function truncate(text: string): string {
  return text.length > MAX_LOG_TEXT ? `${text.slice(0, MAX_LOG_TEXT)}…` : text;
}

function logFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields) return {};
  const kept = Object.fromEntries(Object.entries(fields).filter(([k]) => !RESERVED_FIELDS.has(k)));
  return JSON.stringify(kept).length > MAX_LOG_TEXT ? { fields: '(too large)' } : kept;
}

function memoryReason(limits: HostLimits): string {
  return `it used more than its memory limit of ${limits.memoryMb} MB`;
}

interface Hosted {
  port: InstancePort;
  calls: RateLimit;
  logs: RateLimit;
  state: 'starting' | 'running' | 'stopping';
  settleStart?: (error?: Error) => void;
  stopped?: () => void;
}

/**
 * One plugin host process seen from the server: its instances, the channel to it, and the
 * limits it runs under. The host is killed when its resident memory passes the limit, when it
 * stops answering pings (an endless loop), or when it breaks the protocol; `onEnd` listeners
 * then learn which running instances ended and why.
 */
export class PluginHost {
  private readonly instances = new Map<string, Hosted>();
  private readonly channel: Socket;
  private readonly decoder = new FrameDecoder(MAX_FRAME_BYTES);
  private readonly endListeners: ((reason: string, instanceIds: string[]) => void)[] = [];
  private readonly output: RateLimit;
  private pingTimer?: NodeJS.Timeout;
  private memoryTimer?: NodeJS.Timeout;
  private ended = false;
  private closing = false;
  private killedFor?: string;
  private stderrTail = '';
  private lastPong = Date.now();
  private pingN = 0;
  private windowStart = 0;
  private windowCount = 0;
  private throttled = false;
  private loading?: (error?: Error) => void;
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    private readonly limits: HostLimits,
    /** The plugin's own logger (console output, the host's start and end). */
    private readonly logger: Logger,
  ) {
    this.output = new RateLimit(limits.logsPerSecond, limits.logBurst);
    this.channel = child.stdio[3] as Socket;
    this.channel.on('data', (chunk: Buffer) => this.onData(chunk));
    // The host's end closing is seen as its exit; a broken pipe is not the server's problem.
    this.channel.on('error', () => undefined);
    this.readLines(child.stdout!, 'info');
    this.readLines(child.stderr!, 'warn');
    child.on('error', (err) => this.kill(`the plugin host could not run: ${err.message}`));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.onExit(code, signal);
        resolve();
      });
    });
  }

  /** Spawns the host and loads the plugin's code in it; rejects with why it did not load. */
  static async launch(options: {
    sandbox: HostSandbox;
    dir: string;
    load: Omit<LoadMessage, 'kind' | 'dir' | 'closeFds' | 'limits' | 'maxFrameBytes'>;
    limits: HostLimits;
    logger: Logger;
  }): Promise<PluginHost> {
    const { sandbox, dir, limits } = options;
    const heapMb = Math.max(16, Math.floor(limits.memoryMb * HEAP_SHARE));
    const { child, closeFds } = await sandbox.spawn(dir, heapMb);
    const host = new PluginHost(child, dir, limits, options.logger);
    try {
      await host.load({
        kind: 'load',
        ...options.load,
        dir,
        closeFds,
        limits: {
          callsPerSecond: limits.callsPerSecond,
          callBurst: limits.callBurst,
          logsPerSecond: limits.logsPerSecond,
          logBurst: limits.logBurst,
        },
        maxFrameBytes: MAX_FRAME_BYTES,
      });
    } catch (err) {
      await host.close();
      throw err;
    }
    host.startWatchdogs();
    return host;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onEnd(listener: (reason: string, instanceIds: string[]) => void): void {
    this.endListeners.push(listener);
  }

  /** Starts an instance of the plugin; rejects with why it did not start. */
  startInstance(boot: InstanceBoot, port: InstancePort): Promise<void> {
    const id = boot.instanceId;
    if (this.ended || this.closing) {
      return Promise.reject(new PluginStartError('the plugin host is stopping'));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.instances.delete(id);
        this.send({ kind: 'stop', instanceId: id });
        reject(new PluginStartError(`start() did not finish within ${this.limits.startMs} ms`));
      }, this.limits.startMs);
      this.instances.set(id, {
        port,
        calls: new RateLimit(this.limits.callsPerSecond, this.limits.callBurst),
        logs: new RateLimit(this.limits.logsPerSecond, this.limits.logBurst),
        state: 'starting',
        settleStart: (error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        },
      });
      this.send({ kind: 'start', instance: boot });
    });
  }

  /** Lets the instance's stop() run (bounded). */
  async stopInstance(id: string): Promise<void> {
    const instance = this.instances.get(id);
    if (!instance) return;
    instance.state = 'stopping';
    if (!this.ended) {
      await new Promise<void>((resolve) => {
        instance.stopped = resolve;
        setTimeout(resolve, STOP_GRACE_MS).unref();
        this.send({ kind: 'stop', instanceId: id });
      });
    }
    this.instances.delete(id);
  }

  dispatch(instanceIds: string[], event: HostEvent): void {
    const running = instanceIds.filter((id) => this.instances.get(id)?.state === 'running');
    if (running.length > 0) this.send({ kind: 'event', instanceIds: running, event });
  }

  updateConfig(instanceId: string, config: Record<string, unknown>): void {
    if (this.instances.get(instanceId)?.state === 'running') {
      this.send({ kind: 'config', instanceId, config });
    }
  }

  /** Stops what runs here and ends the process. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    await Promise.all([...this.instances.keys()].map((id) => this.stopInstance(id)));
    // The host exits when its channel closes; one that does not is killed.
    this.channel.end();
    const timer = setTimeout(() => this.kill('it did not exit when asked to'), EXIT_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private load(message: LoadMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.kill(`loading the plugin took longer than ${this.limits.startMs} ms`),
        this.limits.startMs,
      );
      this.loading = (error) => {
        clearTimeout(timer);
        this.loading = undefined;
        if (error) reject(error);
        else resolve();
      };
      this.send(message);
    });
  }

  private startWatchdogs(): void {
    this.lastPong = Date.now();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPong > this.limits.stallMs) {
        this.kill(
          this.throttled
            ? 'it sent more messages than the server reads (a flood)'
            : `it did not respond for ${this.limits.stallMs} ms (an endless loop?)`,
        );
        return;
      }
      this.send({ kind: 'ping', n: ++this.pingN });
    }, PING_MS);
    this.pingTimer.unref();
    this.checkMemory();
  }

  /**
   * Samples the host's resident memory, more often once it is past half the limit: memory can
   * grow by gigabytes a second, and what the limit allows beyond it is what grows between two
   * samples.
   */
  private checkMemory(): void {
    void this.residentMb().then((rssMb) => {
      if (this.ended || rssMb === null) return;
      if (rssMb > this.limits.memoryMb) {
        this.logger.warn({ rssMb }, 'plugin host over its memory limit');
        this.kill(memoryReason(this.limits));
        return;
      }
      const interval = rssMb > this.limits.memoryMb / 2 ? MEMORY_CHECK_CLOSE_MS : MEMORY_CHECK_MS;
      this.memoryTimer = setTimeout(() => this.checkMemory(), interval);
      this.memoryTimer.unref();
    });
  }

  /** Resident memory (RSS, off-heap included) from /proc; null where there is none. */
  private async residentMb(): Promise<number | null> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8').catch(() => '');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    let messages: unknown[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.kill(`it broke the plugin host protocol: ${err.message}`);
      return;
    }
    for (const raw of messages) {
      const parsed = fromHost.safeParse(raw);
      if (!parsed.success) {
        this.kill(`it broke the plugin host protocol: ${z.prettifyError(parsed.error)}`);
        return;
      }
      this.handle(parsed.data);
      if (this.ended) return;
    }
    this.throttle(messages.length);
  }

  /** Bounds the server's work for one host: past the window's budget, reading pauses. */
  private throttle(count: number): void {
    const now = performance.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.windowCount = 0;
      this.throttled = false;
    }
    this.windowCount += count;
    if (this.windowCount <= MESSAGES_PER_WINDOW) return;
    this.throttled = true;
    this.channel.pause();
    setTimeout(() => this.channel.resume(), this.windowStart + WINDOW_MS - now);
  }

  private handle(message: FromHostMessage): void {
    switch (message.kind) {
      case 'pong':
        this.lastPong = Date.now();
        break;
      case 'ready':
        this.loading?.();
        break;
      case 'load-failed':
        this.loading?.(new PluginStartError(message.error));
        break;
      case 'started':
      case 'start-failed': {
        const instance = this.instances.get(message.instanceId);
        if (instance?.state !== 'starting') break;
        if (message.kind === 'started') {
          instance.state = 'running';
          instance.settleStart?.();
        } else {
          this.instances.delete(message.instanceId);
          instance.settleStart?.(new PluginStartError(message.error));
        }
        break;
      }
      case 'stopped':
        this.instances.get(message.instanceId)?.stopped?.();
        break;
      case 'call':
        this.onCall(message);
        break;
      case 'log':
        this.onLog(message);
        break;
      case 'dropped': {
        const instance = this.instances.get(message.instanceId);
        if (instance && instance[message.what].noteDrop()) this.warnDropped(instance, message.what);
        break;
      }
    }
  }

  private onCall(message: Extract<FromHostMessage, { kind: 'call' }>): void {
    const reply = (result: { ok: true; value: unknown } | { ok: false; error: string }) =>
      this.send({ kind: 'result', id: message.id, ...result });
    const instance = this.instances.get(message.instanceId);
    if (!instance) {
      reply({ ok: false, error: `${message.method}: the instance is not running` });
      return;
    }
    const allowed = instance.calls.take();
    if (allowed !== 'ok') {
      if (allowed === 'first-drop') this.warnDropped(instance, 'calls');
      reply({ ok: false, error: `${message.method}: over the rate limit of host calls` });
      return;
    }
    const args = callArgs[message.method].safeParse(message.args);
    if (!args.success) {
      reply({ ok: false, error: `${message.method}: invalid arguments` });
      return;
    }
    const port = instance.port;
    const run = (): Promise<unknown> => {
      switch (message.method) {
        case 'sendEvent':
          return port.sendEvent(...(args.data as z.infer<typeof callArgs.sendEvent>));
        case 'getState':
          return port.getState(...(args.data as z.infer<typeof callArgs.getState>));
        case 'dbQuery':
          return port.dbQuery(...(args.data as z.infer<typeof callArgs.dbQuery>));
      }
    };
    run().then(
      (value) => reply({ ok: true, value }),
      (err: unknown) =>
        reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  private onLog(message: Extract<FromHostMessage, { kind: 'log' }>): void {
    const instance = this.instances.get(message.instanceId);
    if (!instance) return;
    const allowed = instance.logs.take();
    if (allowed !== 'ok') {
      if (allowed === 'first-drop') this.warnDropped(instance, 'logs');
      return;
    }
    instance.port.logger[message.level](logFields(message.fields), truncate(message.msg));
  }

  private warnDropped(instance: Hosted, what: 'calls' | 'logs'): void {
    const limit = instance[what];
    instance.port.logger.warn(
      { perSecond: limit.perSecond, burst: limit.burst },
      what === 'calls'
        ? 'host calls over the rate limit are refused until the plugin slows down'
        : 'log records over the rate limit are dropped until the plugin slows down',
    );
  }

  /** Console output of the plugin, line by line, under the same rate limit as its log. */
  private readLines(stream: Readable, level: 'info' | 'warn'): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      if (level === 'warn') this.stderrTail = (this.stderrTail + text).slice(-MAX_LOG_TEXT);
      const lines = (partial + text).split('\n');
      partial = truncate(lines.pop()!);
      for (const line of lines) {
        if (line.trim() === '') continue;
        const allowed = this.output.take();
        if (allowed === 'ok') this.logger[level](truncate(line));
        else if (allowed === 'first-drop') {
          this.logger.warn('console output over the rate limit is dropped until it slows down');
        }
      }
    });
    stream.on('error', () => undefined);
  }

  private kill(reason: string): void {
    if (this.ended) return;
    this.killedFor ??= reason;
    this.child.kill('SIGKILL');
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.ended = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.memoryTimer);
    const reason =
      this.killedFor ??
      (/heap out of memory|Reached heap limit/.test(this.stderrTail)
        ? memoryReason(this.limits)
        : `the plugin host exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    this.loading?.(new PluginStartError(reason));
    const ended: string[] = [];
    for (const [id, instance] of this.instances) {
      if (instance.state === 'starting') instance.settleStart?.(new PluginStartError(reason));
      else if (instance.state === 'running') ended.push(id);
      instance.stopped?.();
    }
    this.instances.clear();
    if (this.closing && ended.length === 0) return;
    for (const listener of this.endListeners) listener(reason, ended);
  }

  private send(message: ToHost): void {
    if (this.ended || this.channel.destroyed) return;
    this.channel.write(encodeFrame(message));
  }
}
