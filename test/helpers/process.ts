import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the embedded database server running on a data directory (its postmaster). */
export async function databaseServerPid(dataDir: string): Promise<number> {
  const pidFile = await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8');
  return Number(pidFile.split('\n')[0]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout or stderr has matched the pattern. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/**
 * Stops the servers still running (a test that failed half-way) the way an admin would, so that
 * they stop their embedded database servers too.
 */
export async function stopServers(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

/**
 * Runs the server entry from its TypeScript sources, as `npm run dev` does, or with `built` the
 * compiled one, as `npm start` does; `input` is written to its stdin (else it has none).
 */
export function runServer(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { input?: string; built?: boolean } = {},
): RunningProcess {
  const entry = options.built
    ? [join(ROOT, 'dist/src/server.js')]
    : ['--import', 'tsx', join(ROOT, 'src/server.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
          const m = (out + err).match(pattern);
          if (m) return resolve(m);
          if (child.exitCode !== null || Date.now() - started > timeoutMs) {
            return reject(new Error(`no ${pattern} in output:\n${out}\n${err}`));
          }
          setTimeout(tick, 50);
        };
        tick();
      });
    },
  };
}
