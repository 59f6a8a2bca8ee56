import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { hostScriptSource } from './host-script';

/** The OS user plugin hosts run as when the server runs as root. */
export interface HostUser {
  uid: number;
  gid: number;
}

const DIR_PREFIX = 'switchboard-plugins-';
const O_CLOEXEC = 0o2000000;

/**
 * `instances.hostUser`: a user name from /etc/passwd, or `uid` or `uid:gid`. Never root: the
 * point of another user is that a plugin cannot signal or read what belongs to the server.
 */
export async function resolveHostUser(spec: string): Promise<HostUser> {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  let user: HostUser | undefined;
  if (numeric) {
    user = { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  } else {
    const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
    for (const line of passwd.split('\n')) {
      const [name, , uid, gid] = line.split(':');
      if (name === spec && uid !== undefined && gid !== undefined) {
        user = { uid: Number(uid), gid: Number(gid) };
      }
    }
  }
  if (!user) throw new Error(`the plugin host user "${spec}" does not exist`);
  if (user.uid === 0 || user.gid === 0) {
    throw new Error(`the plugin host user "${spec}" is root; plugins never run as root`);
  }
  return user;
}

/**
 * Descriptors this process would pass to a child: those without close-on-exec, which it can
 * only have inherited from whatever started it (Node opens its own with close-on-exec). The
 * host closes them before any plugin code runs.
 */
async function inheritableFds(): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc/self/fd');
  } catch {
    return [];
  }
  const fds: number[] = [];
  for (const fd of entries.map(Number).filter((n) => n > 3)) {
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const flags = /^flags:\s+([0-7]+)/m.exec(info);
    if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) fds.push(fd);
  }
  return fds;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where plugin hosts run from: a private temporary directory with the host script, an empty
 * working directory, and one directory per host with its plugin's files. When the server runs
 * as root, hosts run as `user`, and only that user's group (and root) can read those files.
 */
export class HostSandbox {
  private counter = 0;

  private constructor(
    readonly root: string,
    readonly script: string,
    readonly cwd: string,
    readonly user: HostUser | null,
  ) {}

  /** `user` is null when the server is not root: hosts then run as the server's user. */
  static async create(user: HostUser | null): Promise<HostSandbox> {
    await removeStale();
    const root = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    // Others may pass through to their own files, not list what is here.
    await chmod(root, user ? 0o711 : 0o700);
    const script = join(root, 'plugin-host.js');
    await writeFile(script, await hostScriptSource(), { mode: 0o444 });
    const cwd = join(root, 'cwd');
    await mkdir(cwd, { mode: 0o555 });
    return new HostSandbox(root, script, cwd, user);
  }

  /** Unpacks a plugin's files into a directory of their own, readable by its host only. */
  async unpack(pluginId: string, files: ReadonlyMap<string, Buffer>): Promise<string> {
    const dir = join(this.root, `${pluginId}-${++this.counter}`);
    await mkdir(dir, { mode: 0o700 });
    const dirs = new Set<string>();
    for (const [name, content] of files) {
      const path = resolve(dir, name);
      if (!path.startsWith(dir + sep))
        throw new Error(`archive entry ${name} is outside the plugin`);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      for (let d = dirname(path); d !== dir; d = dirname(d)) dirs.add(d);
      await writeFile(path, content, { mode: this.user ? 0o640 : 0o600 });
      if (this.user) await chown(path, -1, this.user.gid);
    }
    for (const d of [dir, ...dirs]) {
      await chmod(d, this.user ? 0o750 : 0o700);
      if (this.user) await chown(d, -1, this.user.gid);
    }
    return dir;
  }

  async remove(dir: string): Promise<void> {
    if (relative(this.root, dir).startsWith('..')) return;
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Starts a host: Node's permission model allowing reads of the host script and `dir` only
   * (no child processes, workers, addons, WASI or inspector: none of their --allow flags),
   * node:sqlite off (it writes files past the permission model), an empty environment, the
   * empty working directory, stdout and stderr as pipes to the server, the channel on fd 3.
   */
  async spawn(dir: string, heapMb: number): Promise<{ child: ChildProcess; closeFds: number[] }> {
    const closeFds = await inheritableFds();
    const child = spawn(
      process.execPath,
      [
        '--permission',
        `--allow-fs-read=${this.script}`,
        `--allow-fs-read=${dir}`,
        '--no-experimental-sqlite',
        `--max-old-space-size=${heapMb}`,
        '--max-semi-space-size=2',
        // A host idles most of the time: V8 keeps its heap and code small rather than fast.
        '--optimize-for-size',
        this.script,
      ],
      {
        cwd: this.cwd,
        env: {},
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
      },
    );
    return { child, closeFds };
  }

  async close(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Directories left by servers that did not stop cleanly (their process is gone). */
async function removeStale(): Promise<void> {
  const base = tmpdir();
  const uid = process.getuid?.();
  for (const name of await readdir(base).catch(() => [])) {
    const pid = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!pid || alive(Number(pid))) continue;
    const path = join(base, name);
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory() && info.uid === uid) await rm(path, { recursive: true, force: true });
  }
}
