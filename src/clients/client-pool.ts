import type { StoredClient } from '../db/client-repository';
import { namedLogger, type Logger } from '../logging/logger';
import { BotClient, type BotClientOptions, type SyncPosition } from '../matrix/bot-client';
import { HomeserverError, IdentityMismatchError } from '../matrix/matrix-errors';

/** Everything a client needs to run, with the token in clear (only ever in memory). */
export type RunnableClient = Omit<StoredClient, 'accessToken'> & {
  accessToken: string;
} & Partial<
    Pick<
      BotClientOptions,
      | 'acceptInvite'
      | 'inviteRefusal'
      | 'ignoreOwnEvents'
      | 'catchUp'
      | 'trackRooms'
      | 'onMembership'
    >
  >;

export interface ClientPoolHooks {
  /** The client as stored now; null when it is gone. */
  load(id: string): Promise<RunnableClient | null>;
  /** A start failed (a retry may be scheduled). */
  failed?(id: string, err: unknown): void;
  /** Persists enabled=false: the homeserver refused this client for good. */
  disable(id: string, reason: string): Promise<void>;
  savePosition(id: string, position: SyncPosition): Promise<void>;
  /** The client runs now (its instances may start). */
  started?(id: string, bot: BotClient): void;
  /** The client stopped (its instances must stop). */
  stopped?(id: string): void;
}

export interface ClientPoolOptions {
  /** First retry delay after a failed start; doubles per attempt. */
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Least time between two sync position writes of one client. */
const POSITION_WRITE_MS = 1000;

export const DEFAULT_POOL_OPTIONS: ClientPoolOptions = { retryBaseMs: 5_000, retryMaxMs: 300_000 };

export interface ClientStatus {
  started: boolean;
  syncOk: boolean;
  remoteDisplayname: string | null;
  remoteAvatarUrl: string | null;
}

interface Runtime {
  bot?: BotClient;
  started: boolean;
  /** Bumped by every start and stop, so a start that finishes late knows it was superseded. */
  generation: number;
  retryTimer?: NodeJS.Timeout;
  attempt: number;
  remoteDisplayname: string | null;
  remoteAvatarUrl: string | null;
  /** The sync position write under way (resolves when nothing is left to write). */
  writes: Promise<void>;
  /** What the next write stores: later positions overwrite earlier unwritten ones. */
  pendingPosition?: SyncPosition;
}

/**
 * The running Matrix clients: one BotClient per started client. Starts retry with backoff in
 * the background when the homeserver cannot be reached; a homeserver that rejects the token
 * disables the client instead.
 */
export class ClientPool {
  private readonly runtimes = new Map<string, Runtime>();
  private closed = false;
  private statusVersion = 0;

  constructor(
    private readonly hooks: ClientPoolHooks,
    private readonly logger: Logger,
    private readonly options: ClientPoolOptions = DEFAULT_POOL_OPTIONS,
  ) {}

  /** Changes whenever `status` may answer differently for some client. */
  get version(): number {
    return this.statusVersion;
  }

  status(id: string): ClientStatus {
    const runtime = this.runtimes.get(id);
    return {
      started: runtime?.started ?? false,
      syncOk: runtime?.bot?.syncOk ?? true,
      remoteDisplayname: runtime?.remoteDisplayname ?? null,
      remoteAvatarUrl: runtime?.remoteAvatarUrl ?? null,
    };
  }

  /** How many clients run, and how many of those cannot sync right now. */
  counts(): { started: number; syncFailing: number } {
    let started = 0;
    let syncFailing = 0;
    for (const runtime of this.runtimes.values()) {
      if (!runtime.started) continue;
      started++;
      if (runtime.bot && !runtime.bot.syncOk) syncFailing++;
    }
    return { started, syncFailing };
  }

  /** The running client, for room operations; undefined when it is not started. */
  running(id: string): BotClient | undefined {
    const runtime = this.runtimes.get(id);
    return runtime?.started ? runtime.bot : undefined;
  }

  /**
   * Starts the client (no-op when started). Resolves true once it runs; false when it could not
   * start now (a retry is scheduled if the failure may pass) or must not (disabled, gone).
   */
  async start(id: string): Promise<boolean> {
    const runtime = this.runtime(id);
    if (runtime.started) return true;
    this.cancelRetry(runtime);
    return this.attempt(id, runtime, ++runtime.generation);
  }

  stop(id: string): void {
    const runtime = this.runtimes.get(id);
    if (!runtime) return;
    runtime.generation++;
    this.cancelRetry(runtime);
    runtime.attempt = 0;
    this.halt(id, runtime);
  }

  /** Stops the client and forgets everything about it (deleted). */
  forget(id: string): void {
    this.stop(id);
    this.runtimes.delete(id);
    this.statusVersion++;
  }

  async restart(id: string): Promise<boolean> {
    this.stop(id);
    return this.start(id);
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    for (const id of this.runtimes.keys()) this.stop(id);
    await Promise.all([...this.runtimes.values()].map((r) => r.writes));
  }

  private runtime(id: string): Runtime {
    let runtime = this.runtimes.get(id);
    if (!runtime) {
      runtime = {
        started: false,
        generation: 0,
        attempt: 0,
        remoteDisplayname: null,
        remoteAvatarUrl: null,
        writes: Promise.resolve(),
      };
      this.runtimes.set(id, runtime);
    }
    return runtime;
  }

  /** One start; a retry (`retry`) gives up when the client was disabled meanwhile. */
  private async attempt(
    id: string,
    runtime: Runtime,
    generation: number,
    retry = false,
  ): Promise<boolean> {
    const log = this.clientLogger(id);
    let client: RunnableClient | null;
    try {
      client = await this.hooks.load(id);
    } catch (err) {
      // A login that is part of loading can fail like a start: retried the same way.
      if (generation === runtime.generation) this.scheduleRetry(id, runtime, err);
      return false;
    }
    if (!client || this.closed || generation !== runtime.generation) return false;
    if (retry && !client.enabled) return false;
    const bot = new BotClient({
      ...client,
      userId: client.id,
      logger: log,
      onSyncPosition: (position) => this.savePosition(id, runtime, position),
      onSyncOkChange: () => {
        if (runtime.bot === bot) this.statusVersion++;
      },
      onTokenRejected: (error) => {
        if (runtime.bot !== bot) return;
        this.stop(id);
        void this.disable(id, `the homeserver rejected the access token (${error.errcode})`);
      },
    });
    runtime.bot = bot;
    this.statusVersion++;
    try {
      await bot.start();
    } catch (err) {
      bot.stop();
      if (runtime.bot === bot) {
        runtime.bot = undefined;
        this.statusVersion++;
      }
      if (generation !== runtime.generation) return false;
      if (
        (err instanceof HomeserverError && err.tokenRejected) ||
        err instanceof IdentityMismatchError
      ) {
        const reason =
          err instanceof IdentityMismatchError
            ? err.message
            : `the homeserver rejected the access token (${err.errcode})`;
        await this.disable(id, reason);
        return false;
      }
      this.scheduleRetry(id, runtime, err);
      return false;
    }
    if (generation !== runtime.generation || this.closed) {
      bot.stop();
      return false;
    }
    runtime.started = true;
    this.statusVersion++;
    runtime.attempt = 0;
    this.copyProfile(runtime, bot);
    log.info({ homeserver: client.homeserver, sync: client.sync }, 'client started');
    this.hooks.started?.(id, bot);
    return true;
  }

  /** Takes the profile the running client last read from the homeserver into the status. */
  rememberProfile(id: string): void {
    const runtime = this.runtimes.get(id);
    if (runtime?.bot) this.copyProfile(runtime, runtime.bot);
  }

  private copyProfile(runtime: Runtime, bot: BotClient): void {
    runtime.remoteDisplayname = bot.remoteDisplayname;
    runtime.remoteAvatarUrl = bot.remoteAvatarUrl;
    this.statusVersion++;
  }

  private halt(id: string, runtime: Runtime): void {
    const wasStarted = runtime.started;
    runtime.bot?.stop();
    runtime.bot = undefined;
    runtime.started = false;
    this.statusVersion++;
    if (wasStarted) {
      this.clientLogger(id).info('client stopped');
      this.hooks.stopped?.(id);
    }
  }

  private scheduleRetry(id: string, runtime: Runtime, err: unknown): void {
    this.hooks.failed?.(id, err);
    if (this.closed) return;
    const delay = Math.min(
      this.options.retryMaxMs,
      this.options.retryBaseMs * 2 ** Math.min(runtime.attempt, 20),
    );
    runtime.attempt++;
    this.clientLogger(id).warn(
      { err, attempt: runtime.attempt, retryInMs: delay },
      'client could not start; retrying',
    );
    const generation = runtime.generation;
    runtime.retryTimer = setTimeout(() => {
      runtime.retryTimer = undefined;
      if (generation !== runtime.generation) return;
      void this.attempt(id, runtime, generation, true);
    }, delay);
    runtime.retryTimer.unref();
  }

  private cancelRetry(runtime: Runtime): void {
    if (runtime.retryTimer) clearTimeout(runtime.retryTimer);
    runtime.retryTimer = undefined;
  }

  private async disable(id: string, reason: string): Promise<void> {
    this.hooks.failed?.(id, new Error(reason));
    this.clientLogger(id).error({ reason }, 'client disabled: %s', reason);
    try {
      await this.hooks.disable(id, reason);
    } catch (err) {
      this.clientLogger(id).error({ err }, 'could not store that the client is disabled');
    }
  }

  /**
   * Stores the sync position: at most one write at a time and one per POSITION_WRITE_MS per
   * client, the latest position winning. A busy client costs the database a few writes a
   * second, not one per sync; a crash replays at most that interval's events.
   */
  private savePosition(id: string, runtime: Runtime, position: SyncPosition): void {
    const queued = runtime.pendingPosition !== undefined;
    runtime.pendingPosition = { ...runtime.pendingPosition, ...position };
    if (queued) return;
    runtime.writes = runtime.writes.then(async () => {
      if (!this.closed) await new Promise((resolve) => setTimeout(resolve, POSITION_WRITE_MS));
      const latest = runtime.pendingPosition!;
      runtime.pendingPosition = undefined;
      try {
        await this.hooks.savePosition(id, latest);
      } catch (err) {
        this.clientLogger(id).warn({ err }, 'could not store the sync position');
      }
    });
  }

  private clientLogger(id: string): Logger {
    // maubot's logger name (the web UI links it to the client); `name` is the process's own.
    return namedLogger(this.logger, `maubot.client.${id}`);
  }
}
