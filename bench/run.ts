/**
 * npm run bench: throughput of Switchboard's validated endpoints against a bare express app
 * answering the same JSON, measured in the same run on this machine, printed as ratios.
 */
import {
  execFileSync,
  spawn as spawnProcess,
  type ChildProcess,
  type SpawnOptions,
} from 'node:child_process';
import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { strToU8, zipSync } from 'fflate';
import { TestHomeserver } from '../test/homeserver/test-homeserver';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGET_RATIO = 0.55;
const UPLOADS = 10;
const UPLOAD_TARGET_MS = 150;
const RSS_TARGET_FACTOR = 3;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const COMMAND_CLIENTS = 5;
const INSTANCES_PER_CLIENT = 4;
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 400);
const COMMAND_P99_TARGET_MS = 50;
const CLIENT_RSS_TARGET = 10 * 1024 * 1024;
const HOOK_ROOMS = 50;
const HOOK_CONCURRENCY = 50;
const HOOK_MESSAGES_PER_ROOM = Number(process.env.BENCH_HOOK_MESSAGES ?? 40);
const HOOK_TARGET_RATIO = 0.5;
const HOOK_P99_TARGET_MS = 25;

/**
 * V8 flags Switchboard runs with, as `npm start` and the Docker image start it. A young
 * generation capped at 8 MB keeps each scavenge short: left to grow to 64 MB, scavenges under
 * a webhook burst took 15-30 ms each, which was the ingest latency's p99.
 */
const SERVER_NODE_FLAGS = ['--max-semi-space-size=8'];

interface ServerInfo {
  barePort: number;
  switchboardPort: number;
  token: string;
  provisioningSecret: string;
  embeddedDbRssBytes: number;
  rssBytes: number;
}

/** On two cores the server and the load generator each get one, so neither starves the other. */
function pinnable(): boolean {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Servers {
  info: ServerInfo;
  stop(): void;
  /** Lets the server (all its threads) and this process use every core again. */
  unpin(): void;
  /** The server's peak RSS growth while `work` runs. */
  peakRssGrowth(work: () => Promise<void>): Promise<number>;
}

function startServers(): Promise<Servers> {
  const pin = pinnable();
  const child = spawn(
    pin ? 'taskset' : process.execPath,
    [
      ...(pin ? ['-c', '0', process.execPath] : []),
      ...SERVER_NODE_FLAGS,
      '--expose-gc',
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : []),
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

interface Measurement {
  rps: number;
  p99: number;
  total?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(
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

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const running = new Set<ChildProcess>();
// However the run ends (a part that hangs included), no child outlives it.
process.on('exit', () => {
  for (const child of running) child.kill();
});

/** child_process.spawn, remembering the child until it exits. */
function spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawnProcess(command, args, options);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Longest a part may take; a part that hangs fails the run, naming itself, instead. */
const STAGE_LIMIT_MS = 5 * 60_000;

async function stage(name: string, work: () => Promise<boolean>): Promise<boolean> {
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

async function main(): Promise<void> {
  const servers = await startServers();
  const { info } = servers;
  try {
    const bare = `http://127.0.0.1:${info.barePort}`;
    const sb = `http://127.0.0.1:${info.switchboardPort}`;
    const cases = [
      {
        name: 'POST /_matrix/maubot/v1/auth/ping',
        method: 'POST' as const,
        path: '/_matrix/maubot/v1/auth/ping',
        headers: { Authorization: `Bearer ${info.token}` },
      },
      {
        name: 'GET /v1/connectiontypes',
        method: 'GET' as const,
        path: '/v1/connectiontypes',
        headers: { Authorization: `Bearer ${info.provisioningSecret}` },
      },
    ];
    console.log(
      `autocannon, 10 connections, ${ROUNDS} alternating rounds of ${DURATION_S} s each; ` +
        'the ratio is the median of the rounds\n',
    );
    console.log(
      'endpoint                              bare req/s  p99   switchboard req/s  p99   ratio',
    );
    let failed = false;
    const only =
      process.env.BENCH_ONLY_UPLOAD ??
      process.env.BENCH_ONLY_CLIENTS ??
      process.env.BENCH_ONLY_COMMANDS ??
      process.env.BENCH_ONLY_WEBHOOKS;
    for (const c of only ? [] : cases) {
      const rounds: { base: Measurement; ours: Measurement }[] = [];
      // Alternating short rounds keep drift in the machine's speed out of the ratio.
      for (let i = 0; i < ROUNDS; i++) {
        rounds.push({
          base: await measure(bare + c.path, c.method, c.headers),
          ours: await measure(sb + c.path, c.method, c.headers),
        });
      }
      const ratio = median(rounds.map((r) => r.ours.rps / r.base.rps));
      const base = median(rounds.map((r) => r.base.rps));
      const ours = median(rounds.map((r) => r.ours.rps));
      const baseP99 = median(rounds.map((r) => r.base.p99));
      const oursP99 = median(rounds.map((r) => r.ours.p99));
      failed ||= ratio < TARGET_RATIO;
      console.log(
        `${c.name.padEnd(37)} ${base.toFixed(0).padStart(10)} ${String(baseP99).padStart(4)}ms ` +
          `${ours.toFixed(0).padStart(18)} ${String(oursP99).padStart(4)}ms ` +
          `${ratio.toFixed(2).padStart(6)} ${ratio >= TARGET_RATIO ? 'ok' : `below ${TARGET_RATIO}`}`,
      );
    }
    // One upload is latency, not throughput: the server gets all cores, as in production.
    servers.unpin();
    const env = process.env;
    if (!env.BENCH_ONLY_CLIENTS && !env.BENCH_ONLY_COMMANDS && !env.BENCH_ONLY_WEBHOOKS) {
      failed = (await stage('upload', () => benchUpload(servers))) || failed;
    }
    if (!env.BENCH_ONLY_COMMANDS && !env.BENCH_ONLY_WEBHOOKS) {
      failed = (await stage('idle clients', benchClients)) || failed;
    }
    if (!env.BENCH_ONLY_WEBHOOKS) {
      failed = (await stage('command round trip', benchCommands)) || failed;
    }
    if (!env.BENCH_ONLY_UPLOAD && !env.BENCH_ONLY_CLIENTS && !env.BENCH_ONLY_COMMANDS) {
      failed = (await stage('webhooks', benchWebhooks)) || failed;
    }
    console.log(`\nembedded database idle memory: ${mib(info.embeddedDbRssBytes)} RSS`);
    console.log(`server process RSS after start: ${mib(info.rssBytes)}`);
    console.log(`target: every ratio >= ${TARGET_RATIO} x bare express`);
    if (failed) process.exitCode = 1;
  } finally {
    servers.stop();
  }
}

/** Upload-and-validate time of a 10 MB plugin archive, and the server's peak RSS growth. */
async function benchUpload(servers: Servers): Promise<boolean> {
  const archive = buildBenchArchive(10 * 1024 * 1024);
  const url = `http://127.0.0.1:${servers.info.switchboardPort}/_matrix/maubot/v1/plugins/upload?allow_override=1`;
  const headers = {
    Authorization: `Bearer ${servers.info.token}`,
    'Content-Type': 'application/zip',
    'Content-Length': String(archive.length),
  };
  const agent = new Agent({ keepAlive: true });
  // node:http rather than fetch: the client's own copying must not count as server time.
  const uploadOnce = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const req = httpRequest(url, { method: 'POST', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200 && res.statusCode !== 201) {
            reject(new Error(`upload answered ${res.statusCode}`));
          } else resolve(performance.now() - start);
        });
      });
      req.on('error', reject);
      req.end(archive);
    });
  await uploadOnce(); // warm-up: first-use compilation and the database's first growth
  const times: number[] = [];
  const growth = await servers.peakRssGrowth(async () => {
    for (let i = 0; i < UPLOADS; i++) times.push(await uploadOnce());
  });
  const ms = median(times);
  const factor = growth / archive.length;
  console.log(
    `\nupload + validate a ${mib(archive.length)} archive: median ${ms.toFixed(0)} ms over ${UPLOADS} ` +
      `(target < ${UPLOAD_TARGET_MS} ms) ${ms < UPLOAD_TARGET_MS ? 'ok' : 'too slow'}`,
  );
  console.log(
    `peak server RSS growth while uploading: ${mib(growth)} = ${factor.toFixed(2)} x the archive ` +
      `(target < ${RSS_TARGET_FACTOR} x) ${factor < RSS_TARGET_FACTOR ? 'ok' : 'too much'}`,
  );
  return ms >= UPLOAD_TARGET_MS || factor >= RSS_TARGET_FACTOR;
}

/**
 * Resident memory per idle, synced Matrix client: the homeserver runs here, the clients in a
 * child process that measures itself before and after adding them.
 */
async function benchClients(): Promise<boolean> {
  if (process.env.BENCH_ONLY_UPLOAD) return false;
  const hs = await TestHomeserver.start();
  try {
    const owner = hs.registerUser('bench-owner');
    const users = Array.from({ length: CLIENTS + 1 }, (_, i) => hs.registerUser(`bench${i}`));
    // Each bot idles in a room with a little history, as a deployed bot would.
    const rooms = await Promise.all(
      users.map(async (user) => {
        const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${owner.accessToken}` },
          body: JSON.stringify({ invite: [user.userId] }),
        });
        return ((await res.json()) as { room_id: string }).room_id;
      }),
    );
    void rooms;
    const child = spawn(
      process.execPath,
      [...SERVER_NODE_FLAGS, '--expose-gc', '--import', 'tsx', join(__dirname, 'clients.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          BENCH_HS_URL: hs.url,
          BENCH_TOKENS: JSON.stringify(users.map((u) => u.accessToken)),
        },
      },
    );
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const result = JSON.parse(line) as {
      clients: number;
      rssPerClient: number;
      heapPerClient: number;
      rssTotal: number;
      startMs: number;
    };
    const ok = result.rssPerClient < CLIENT_RSS_TARGET;
    console.log(
      `
${result.clients} idle synced Matrix clients (each joined to a room): ` +
        `${mib(result.rssPerClient)} RSS each, ${mib(result.heapPerClient)} JS heap each ` +
        `(target < ${mib(CLIENT_RSS_TARGET)}) ${ok ? 'ok' : 'too much'}; ` +
        `started and synced in ${(result.startMs / 1000).toFixed(1)} s, process RSS ${mib(result.rssTotal)}`,
    );
    return !ok;
  } finally {
    await hs.close();
  }
}

/**
 * Command round trip through plugin instances: a user's `!command` stored on the homeserver →
 * synced to Switchboard → dispatched to the instance's thread → its reply stored on the
 * homeserver. 20 instances on 5 clients, one room per client, the rooms in parallel.
 */
async function benchCommands(): Promise<boolean> {
  if (process.env.BENCH_ONLY_UPLOAD) return false;
  const hs = await TestHomeserver.start();
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const user = hs.registerUser('bench-user');
    const bots = Array.from({ length: COMMAND_CLIENTS }, (_, i) => hs.registerUser(`cmd${i}`));
    const rooms: string[] = [];
    for (const bot of bots) {
      const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${user.accessToken}` },
        body: JSON.stringify({ invite: [bot.userId] }),
      });
      rooms.push(((await res.json()) as { room_id: string }).room_id);
    }
    const profile = process.env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles']
      : [];
    child = spawn(
      process.execPath,
      [...SERVER_NODE_FLAGS, ...profile, '--import', 'tsx', join(__dirname, 'instances.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          BENCH_HS_URL: hs.url,
          BENCH_TOKENS: JSON.stringify(bots.map((b) => b.accessToken)),
          BENCH_PER_CLIENT: String(INSTANCES_PER_CLIENT),
        },
      },
    );
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { instances } = JSON.parse(line) as { instances: number };

    const stored = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    hs.onEvent((event) => {
      const body = event.content.body;
      if (typeof body !== 'string') return;
      if (event.sender === user.userId) stored.set(body.split(' ')[1]!, performance.now());
      else waiting.get(body)?.();
    });
    let txn = 0;
    const command = async (room: number, instance: number, tag: string): Promise<number> => {
      const reply = new Promise<void>((resolve) => waiting.set(tag, resolve));
      await fetch(
        `${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(rooms[room]!)}/send/m.room.message/b${++txn}`,
        {
          method: 'PUT',
          headers: { Authorization: `Bearer ${user.accessToken}` },
          body: JSON.stringify({ msgtype: 'm.text', body: `!i${instance} ${tag}` }),
        },
      );
      await reply;
      waiting.delete(tag);
      return performance.now() - stored.get(tag)!;
    };
    // Until every bot has joined its room and every instance answers once.
    const warm = async (room: number) => {
      for (let k = 0; k < INSTANCES_PER_CLIENT; k++) {
        const instance = room * INSTANCES_PER_CLIENT + k;
        for (;;) {
          const tag = `w${instance}-${txn}`;
          const answered = await Promise.race([
            command(room, instance, tag).then(() => true),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
          ]);
          if (answered) break;
        }
      }
    };
    await Promise.all(rooms.map((_, room) => warm(room)));
    const latencies: number[] = [];
    await Promise.all(
      rooms.map(async (_, room) => {
        for (let j = 0; j < COMMANDS / COMMAND_CLIENTS; j++) {
          const instance = room * INSTANCES_PER_CLIENT + (j % INSTANCES_PER_CLIENT);
          latencies.push(await command(room, instance, `r${room}-${j}`));
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const p = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    const ok = p(0.99) < COMMAND_P99_TARGET_MS;
    console.log(
      `\ncommand round trip (${instances} instances on ${COMMAND_CLIENTS} clients, ${latencies.length} commands, ` +
        `message stored → reply stored): p50 ${p(0.5).toFixed(1)} ms, p90 ${p(0.9).toFixed(1)} ms, ` +
        `p99 ${p(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms ` +
        `(target p99 < ${COMMAND_P99_TARGET_MS} ms) ${ok ? 'ok' : 'too slow'}`,
    );
    return !ok;
  } finally {
    if (child) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
    await hs.close();
  }
}

/**
 * Inbound webhooks: ingest throughput and latency at concurrency 50 against a bare express
 * endpoint (alternating rounds spread over 50 hooks in 50 rooms; each round waits until every
 * accepted post is a message in its room), then delivery: 50 senders each post to their own
 * hook one after another, and every message must reach its room in the order it was received.
 * The homeserver runs in a process of its own, so its work does not slow the load generator.
 */
async function benchWebhooks(): Promise<boolean> {
  const children: ReturnType<typeof spawn>[] = [];
  const run = (script: string, env: Record<string, string>, flags: string[] = []) => {
    const profile = process.env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles']
      : [];
    const child = spawn(
      process.execPath,
      [...flags, ...profile, '--import', 'tsx', join(__dirname, script)],
      {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        env: { ...process.env, ...env },
      },
    );
    children.push(child);
    return child;
  };
  try {
    const homeserver = run('homeserver.ts', { BENCH_HOOK_ROOMS: String(HOOK_ROOMS) });
    const ask = async <T>(question: string): Promise<T> => {
      const answer = once(homeserver, 'message');
      homeserver.send(question);
      return ((await answer) as [T])[0];
    };
    const [hs] = (await once(homeserver, 'message')) as [
      { url: string; bot: { userId: string }; owner: string; rooms: string[] },
    ];
    const switchboard = run(
      'webhooks.ts',
      {
        BENCH_HS_URL: hs.url,
        BENCH_BOT: JSON.stringify(hs.bot),
        BENCH_USER: hs.owner,
        BENCH_ROOMS: JSON.stringify(hs.rooms),
      },
      SERVER_NODE_FLAGS,
    );
    const [line] = (await once(createInterface({ input: switchboard.stdout! }), 'line')) as [
      string,
    ];
    const info = JSON.parse(line) as { switchboardPort: number; barePort: number; hooks: string[] };
    const delivered = async () => (await ask<{ delivered: number }>('delivered')).delivered;

    const ingest = async (port: number, seconds = DURATION_S): Promise<Measurement> => {
      const result = await autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: HOOK_CONCURRENCY,
        duration: seconds,
        requests: info.hooks.map((path) => ({
          method: 'POST' as const,
          path,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: 'bench' }),
        })),
      });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `webhook ingest: ${result.non2xx} non-2xx answers, ${result.errors} errors`,
        );
      }
      return {
        rps: result.requests.average,
        p99: result.latency.p99,
        total: result.requests.total,
      };
    };
    let ingested = 0;
    // Every accepted post becomes a message; the next round starts once all are in their rooms.
    const drain = async (): Promise<number> => {
      const start = performance.now();
      while ((await delivered()) < ingested && performance.now() - start < 180_000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return (performance.now() - start) / 1000;
    };
    await ingest(info.barePort, 1);
    ingested += (await ingest(info.switchboardPort, 1)).total!; // warm-up
    await drain();
    const rounds: { base: Measurement; ours: Measurement }[] = [];
    const drains: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const base = await ingest(info.barePort);
      const ours = await ingest(info.switchboardPort);
      ingested += ours.total!;
      rounds.push({ base, ours });
      drains.push(await drain());
    }
    const ratio = median(rounds.map((r) => r.ours.rps / r.base.rps));
    const p99 = median(rounds.map((r) => r.ours.p99));
    const allIngested = (await delivered()) >= ingested;
    // Sustained delivery: a round's messages over the round plus the time to deliver the rest.
    const sustained = median(rounds.map((r, i) => r.ours.total! / (DURATION_S + drains[i]!)));

    // Delivery: each sender posts to its own room's hook, waiting for each answer.
    const sent = new Map<string, number>();
    const clock = () => performance.timeOrigin + performance.now();
    const started = clock();
    await Promise.all(
      info.hooks.map(async (path, sender) => {
        for (let seq = 0; seq < HOOK_MESSAGES_PER_ROOM; seq++) {
          sent.set(`${sender} ${seq}`, clock());
          const res = await fetch(`http://127.0.0.1:${info.switchboardPort}${path}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text: `seq ${sender} ${seq}` }),
          });
          if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
          await res.arrayBuffer();
        }
      }),
    );
    const total = HOOK_ROOMS * HOOK_MESSAGES_PER_ROOM;
    let report = await ask<{ arrivals: Record<string, number>; inOrder: boolean }>('arrivals');
    const waitStart = performance.now();
    while (Object.keys(report.arrivals).length < total && performance.now() - waitStart < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      report = await ask('arrivals');
    }
    const arrivals = Object.entries(report.arrivals);
    const elapsedS = (Math.max(...arrivals.map(([, at]) => at)) - started) / 1000;
    const latencies = arrivals.map(([key, at]) => at - sent.get(key)!).sort((a, b) => a - b);
    const p = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const ok =
      ratio >= HOOK_TARGET_RATIO &&
      p99 < HOOK_P99_TARGET_MS &&
      allIngested &&
      arrivals.length === total &&
      report.inOrder;
    console.log(
      `\nwebhook ingest, ${HOOK_CONCURRENCY} connections over ${HOOK_ROOMS} hooks, ${ROUNDS} rounds of ` +
        `${DURATION_S} s: bare ${median(rounds.map((r) => r.base.rps)).toFixed(0)} req/s ` +
        `(p99 ${median(rounds.map((r) => r.base.p99))} ms), ` +
        `switchboard ${median(rounds.map((r) => r.ours.rps)).toFixed(0)} req/s (p99 ${p99} ms), ` +
        `ratio ${ratio.toFixed(2)} (target >= ${HOOK_TARGET_RATIO}, p99 < ${HOOK_P99_TARGET_MS} ms) ` +
        `${ratio >= HOOK_TARGET_RATIO && p99 < HOOK_P99_TARGET_MS ? 'ok' : 'too slow'}`,
    );
    console.log(
      `  every accepted post became a message in its room: ${allIngested ? 'yes' : 'NO'}; ` +
        `sustained (a round's posts over the round plus the time to deliver them all) ` +
        `${sustained.toFixed(0)} messages/s`,
    );
    console.log(
      `webhook delivery, ${HOOK_ROOMS} senders x ${HOOK_MESSAGES_PER_ROOM} posts (post sent → message ` +
        `stored on the homeserver): ${arrivals.length}/${total} delivered at ` +
        `${(arrivals.length / elapsedS).toFixed(0)} messages/s, p50 ${p(0.5).toFixed(1)} ms, ` +
        `p99 ${p(0.99).toFixed(1)} ms; per-room order ${report.inOrder ? 'kept' : 'BROKEN'}`,
    );
    return !ok;
  } finally {
    for (const child of children.reverse()) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
  }
}

/** A valid plugin whose size comes from an incompressible extra file. */
function buildBenchArchive(size: number): Buffer {
  return Buffer.from(
    zipSync(
      {
        'maubot.yaml': strToU8(
          'id: bench.upload\nversion: 1.0.0\nmodules: [bench]\nmain_class: Bench\n',
        ),
        'bench.js': strToU8('class Bench {}\nmodule.exports = { Bench };\n'),
        'payload.bin': randomBytes(size),
      },
      { level: 0 },
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
