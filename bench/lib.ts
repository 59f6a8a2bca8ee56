/** What the benchmark parts share: timing, load measurement, child processes, servers. */
import {
  execFileSync,
  spawn as spawnProcess,
  type ChildProcess,
  type SpawnOptions,
} from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import type { TreeMemory } from './process-memory';

export const DURATION_S = Number(process.env.BENCH_SECONDS ?? 3);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * V8 flags Switchboard runs with, as `npm start` and the Docker image start it. A young
 * generation capped at 8 MB keeps each scavenge short: left to grow to 64 MB, scavenges under
 * a webhook burst took 15-30 ms each, which was the ingest latency's p99. --expose-gc lets the
 * server give memory back when it goes idle (src/util/memory-trim.ts).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--expose-gc'];

/** A part of `npm run bench`: prints its figures and says whether a target was missed. */
export interface BenchPart {
  name: string;
  /** One line for --help. */
  description: string;
  /** Resolves true when a target was missed. */
  run(): Promise<boolean>;
}

/** --cpu-prof for Switchboard's processes when BENCH_PROFILE is set. */
export function profileFlags(): string[] {
  return process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : [];
}

export interface ServerInfo {
  barePort: number;
  switchboardPort: number;
  token: string;
  provisioningSecret: string;
  /** The embedded database server's processes, idle after start. */
  embeddedDb: TreeMemory;
  rssBytes: number;
}

/** On two cores the server and the load generator each get one, so neither starves the other. */
export function pinnable(): boolean {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Servers {
  info: ServerInfo;
  stop(): void;
  /** Lets the server (all its threads) and this process use every core again. */
  unpin(): void;
  /** The server's peak RSS growth while `work` runs. */
  peakRssGrowth(work: () => Promise<void>): Promise<number>;
}

/**
 * The benchmark's server child (`servers.ts`): Switchboard on the embedded database and a bare
 * express app. With `pin` (the default) server and load generator get a core each.
 */
export function startServers(options: { pin?: boolean } = {}): Promise<Servers> {
  const pin = (options.pin ?? true) && pinnable();
  const child = spawn(
    pin ? 'taskset' : process.execPath,
    [
      ...(pin ? ['-c', '0', process.execPath] : []),
      ...SERVER_NODE_FLAGS,
      '--expose-gc',
      ...profileFlags(),
      '--import',
      'tsx',
      join(__dirname, 'servers.ts'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`benchmark servers exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve({
        info: JSON.parse(line) as ServerInfo,
        stop: () => child.kill(),
        unpin: () => {
          if (!pin) return;
          for (const pid of [child.pid!, process.pid]) {
            execFileSync('taskset', ['-a', '-cp', '0-63', String(pid)], { stdio: 'ignore' });
          }
        },
        async peakRssGrowth(work) {
          child.send('rss-start');
          await work();
          const report = once(child, 'message');
          child.send('rss-stop');
          const [{ rssBaseline, rssPeak }] = (await report) as [
            { rssBaseline: number; rssPeak: number },
          ];
          return rssPeak - rssBaseline;
        },
      });
    });
  });
}

export interface Measurement {
  rps: number;
  p99: number;
  total?: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function measure(
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
): Promise<Measurement> {
  // A short warm-up lets the JIT and the validator's caches settle before the measured run.
  await autocannon({ url, method, headers, connections: 10, duration: 1 });
  const result = await autocannon({ url, method, headers, connections: 10, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${method} ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { rps: result.requests.average, p99: result.latency.p99 };
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const running = new Set<ChildProcess>();
// However the run ends (a part that hangs included), no child outlives it.
process.on('exit', () => {
  for (const child of running) child.kill();
});

/** child_process.spawn, remembering the child until it exits. */
export function spawn(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  const child = spawnProcess(command, args, options);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * A benchmark child (a script in bench/, run as Switchboard runs, through tsx) with the given
 * environment, and the first line it prints (its result or its ports). `ipc` opens a message
 * channel to it.
 */
export async function startBenchChild(
  script: string,
  env: Record<string, string>,
  { ipc = false } = {},
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, ...profileFlags(), '--import', 'tsx', join(__dirname, script)],
    {
      stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])],
      env: { ...process.env, ...env },
    },
  );
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    return { child, line };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** Longest a part may take; a part that hangs fails the run, naming itself, instead. */
const STAGE_LIMIT_MS = 5 * 60_000;

export async function stage(name: string, work: () => Promise<boolean>): Promise<boolean> {
  const timer = setTimeout(() => {
    console.error(`benchmark part "${name}" gave no result within ${STAGE_LIMIT_MS / 60_000} min`);
    process.exit(1);
  }, STAGE_LIMIT_MS);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
  }
}

/** The q-quantile of ascending `sorted` values (NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Stops a child process and waits until it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}

/** A process's proportional set size in bytes (shared pages split among their users). */
export async function pssOf(pid: number): Promise<number | null> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kb = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1];
  return kb === undefined ? null : Number(kb) * 1024;
}

/** `pid` and all its descendants, from /proc. */
export async function processTree(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses: the fields after it are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const visit = (p: number) => {
    tree.push(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}
