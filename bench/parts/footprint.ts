/** Memory of the whole deployment: Switchboard and its embedded database, idle after a start. */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import { buildPlugin } from '../../scripts/build-plugins';
import { SERVER_NODE_FLAGS, mib, spawn, stopChild, type BenchPart } from '../lib';
import { processTree, processTreeMemory } from '../process-memory';

const ROOT = join(__dirname, '..', '..');
const INSTANCES = 10;
const IDLE_MS = Number(process.env.BENCH_IDLE_SECONDS ?? 10) * 1000;
const TREE_PSS_TARGET = 200 * 1024 * 1024;
const SERVER_RSS_TARGET = 150 * 1024 * 1024;

/** Four plugins: the three examples and one more, made from the echo example. */
async function plugins() {
  return [
    await buildPlugin('echo'),
    await buildPlugin('dice'),
    await buildPlugin('karma'),
    await buildPlugin('echo', { id: 'bench.footprint', main_class: 'EchoBot' }),
  ];
}

/** `npm start`'s server (compiled output, its V8 flags) on a data directory and port. */
function startServer(dataDir: string, port: number) {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'dist/src/server.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_PORT: String(port),
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (pattern: RegExp): Promise<RegExpMatchArray> => {
    for (let waited = 0; waited < 120_000; waited += 50) {
      const m = out.match(pattern);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`the server exited:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${pattern} from the server:\n${out}`);
  };
  /** The server's warnings and errors so far (for a failure's message). */
  const problems = () =>
    out
      .split('\n')
      .filter((line) => /"level":(40|50|60)/.test(line))
      .slice(-20)
      .join('\n');
  return { child, waitFor, problems };
}

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/_matrix/maubot/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(Buffer.isBuffer(body) ? { 'Content-Type': 'application/zip' } : {}),
    },
    ...(body === undefined
      ? {}
      : { body: Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function run(): Promise<boolean> {
  console.log("building the server when a source changed (npm start's prestart) ...");
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const hs = await TestHomeserver.start();
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-footprint-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}`;
  try {
    // First start: the data (4 plugins, 1 client, 10 instances), through the management API.
    const first = startServer(dataDir, port);
    const [, password] = await first.waitFor(/with password: (\S+)/);
    await first.waitFor(/"msg":"listening"/);
    const login = await fetch(`${base}/_matrix/maubot/v1/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password }),
    });
    const { token } = (await login.json()) as { token: string };
    const ids: string[] = [];
    for (const plugin of await plugins()) {
      await api(base, token, 'POST', '/plugins/upload', plugin.archive);
      ids.push(plugin.id);
    }
    const bot = hs.registerUser('footprint-bot');
    const client = await api(base, token, 'POST', '/client/new', {
      homeserver: hs.url,
      access_token: bot.accessToken,
    });
    for (let i = 0; i < INSTANCES; i++) {
      await api(base, token, 'PUT', `/instance/footprint${i}`, {
        type: ids[i % ids.length],
        primary_user: client.id,
        enabled: true,
      });
    }
    await stopChild(first.child);

    // Second start: what a restarted deployment holds once everything runs and settles.
    const server = startServer(dataDir, port);
    await server.waitFor(/"msg":"listening"/);
    for (let waited = 0; ; waited += 200) {
      const instances = (await api(base, token, 'GET', '/instances')) as unknown as {
        started: boolean;
      }[];
      if (instances.length === INSTANCES && instances.every((i) => i.started)) break;
      if (waited > 60_000) {
        throw new Error(
          `the instances did not all start: ${JSON.stringify(instances)}\n${server.problems()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const tree = processTreeMemory(server.child.pid!);
    const serverRss = tree.processes.find((p) => p.pid === server.child.pid)!.rssBytes;
    console.log(
      `idle ${IDLE_MS / 1000} s after a start with 4 plugins, 1 client, ${INSTANCES} instances:`,
    );
    for (const p of tree.processes) {
      console.log(`  ${String(p.pid).padStart(7)}  ${mib(p.pssBytes).padStart(10)} PSS  ${p.name}`);
    }
    const pssOk = tree.pssBytes <= TREE_PSS_TARGET;
    const rssOk = serverRss <= SERVER_RSS_TARGET;
    console.log(
      `process tree (${tree.processes.length} processes): ${mib(tree.pssBytes)} PSS ` +
        `(target <= ${mib(TREE_PSS_TARGET)}) ${pssOk ? 'ok' : 'MISSED'}`,
    );
    console.log(
      `server process: ${mib(serverRss)} RSS (target <= ${mib(SERVER_RSS_TARGET)}) ${rssOk ? 'ok' : 'MISSED'}`,
    );
    const pids = processTree(server.child.pid!);
    await stopChild(server.child);
    const left = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (left.length) console.log(`processes left after the server stopped: ${left.join(', ')}`);
    return !pssOk || !rssOk || left.length > 0;
  } finally {
    await hs.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const footprintPart: BenchPart = {
  name: 'footprint',
  description:
    'whole process tree idle after a start with 4 plugins, 1 client, 10 instances ' +
    '(PSS <= 200 MB, server RSS <= 150 MB; BENCH_IDLE_SECONDS)',
  run,
};
