/** The maubot list endpoints against POST /auth/ping, on both databases, two data sizes. */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import {
  DURATION_S,
  SERVER_NODE_FLAGS,
  median,
  pinnable,
  profileFlags,
  spawn,
  stopChild,
  type BenchPart,
} from '../lib';
import { dropDatabaseAndRoles } from '../../testing/postgres-databases';

const CONNECTIONS = 50;
const RATIO_TARGET = 0.75;
const P99_TARGET_MS = 30;
/** Rounds per data set; each measures every endpoint once (ping included). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Where the DATABASE_URL runs get a database of their own (created and dropped here). */
const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const DATASETS = [
  { name: '4 plugins, 1 client, 10 instances', clients: 1, instances: 10 },
  { name: '4 plugins, 20 clients, 200 instances', clients: 20, instances: 200 },
];

interface Started {
  child: ChildProcess;
  port: number;
  token: string;
  plugin: string;
  client: string;
  instance: string;
}

/** The server child on core 0 (this process, the load generator, stays on core 1). */
async function startServer(env: Record<string, string>, pin: boolean): Promise<Started> {
  const node = [
    ...SERVER_NODE_FLAGS,
    ...profileFlags(),
    '--import',
    'tsx',
    join(__dirname, '..', 'lists.ts'),
  ];
  const child = spawn(
    pin ? 'taskset' : process.execPath,
    pin ? ['-c', '0', process.execPath, ...node] : node,
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    return { child, ...(JSON.parse(line) as Omit<Started, 'child'>) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

async function measure(
  url: string,
  method: 'GET' | 'POST',
  token: string,
  seconds: number,
): Promise<{ rps: number; p99: number }> {
  const result = await autocannon({
    url,
    method,
    headers: { Authorization: `Bearer ${token}` },
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${method} ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** A database of its own on the Postgres server, dropped with the roles it made. */
async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `switchboard_bench_lists_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(POSTGRES_URL);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropDatabaseAndRoles(POSTGRES_URL, name),
  };
}

async function run(): Promise<boolean> {
  const pin = pinnable();
  const hs = await TestHomeserver.start();
  let failed = false;
  try {
    const users = Array.from({ length: 20 }, (_, i) => hs.registerUser(`lists${i}`));
    console.log(
      `autocannon, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per endpoint ` +
        `(ping measured in each round); server ${pin ? 'pinned to one core' : 'not pinned'}; ` +
        `load average before: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`,
    );
    console.log(
      `targets: rate >= ${RATIO_TARGET} x POST /auth/ping of the same round, ` +
        `p99 <= ${P99_TARGET_MS} ms`,
    );
    for (const backend of ['embedded', 'DATABASE_URL'] as const) {
      for (const dataset of DATASETS) {
        const pgDb = backend === 'DATABASE_URL' ? await postgresDatabase() : undefined;
        let server: Started | undefined;
        try {
          server = await startServer(
            {
              BENCH_HS_URL: hs.url,
              BENCH_TOKENS: JSON.stringify(
                users.slice(0, dataset.clients).map((u) => u.accessToken),
              ),
              BENCH_INSTANCES: String(dataset.instances),
              BENCH_DATABASE_URL: pgDb?.url ?? '',
            },
            pin,
          );
          failed = (await measureAll(backend, dataset.name, server)) || failed;
        } finally {
          if (server) await stopChild(server.child);
          await pgDb?.drop();
        }
      }
    }
  } finally {
    await hs.close();
  }
  return failed;
}

async function measureAll(backend: string, dataset: string, s: Started): Promise<boolean> {
  const base = `http://127.0.0.1:${s.port}/_matrix/maubot/v1`;
  const endpoints = [
    { name: 'GET /plugins', path: '/plugins' },
    { name: 'GET /plugin/{id}', path: `/plugin/${s.plugin}` },
    { name: 'GET /instances', path: '/instances' },
    { name: 'GET /instance/{id}', path: `/instance/${s.instance}` },
    { name: 'GET /clients', path: '/clients' },
    { name: 'GET /client/{id}', path: `/client/${encodeURIComponent(s.client)}` },
  ];
  // Warm-up: the JIT, the validator's caches and the kept answers.
  await measure(`${base}/auth/ping`, 'POST', s.token, 1);
  for (const e of endpoints) await measure(base + e.path, 'GET', s.token, 1);
  const pings: { rps: number; p99: number }[] = [];
  const results = new Map<string, { rps: number; p99: number; ratio: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const ping = await measure(`${base}/auth/ping`, 'POST', s.token, DURATION_S);
    pings.push(ping);
    for (const e of endpoints) {
      const m = await measure(base + e.path, 'GET', s.token, DURATION_S);
      results.set(e.name, [...(results.get(e.name) ?? []), { ...m, ratio: m.rps / ping.rps }]);
    }
  }
  console.log(`\n${backend}, ${dataset}:`);
  console.log('  endpoint              req/s  ratio to ping   p99');
  console.log(
    `  ${'POST /auth/ping'.padEnd(18)} ${median(pings.map((p) => p.rps))
      .toFixed(0)
      .padStart(8)}` +
      `${''.padStart(15)} ${String(median(pings.map((p) => p.p99))).padStart(4)} ms`,
  );
  let failed = false;
  for (const e of endpoints) {
    const rounds = results.get(e.name)!;
    const rps = median(rounds.map((r) => r.rps));
    const ratio = median(rounds.map((r) => r.ratio));
    const p99 = median(rounds.map((r) => r.p99));
    const ok = ratio >= RATIO_TARGET && p99 <= P99_TARGET_MS;
    failed ||= !ok;
    console.log(
      `  ${e.name.padEnd(18)} ${rps.toFixed(0).padStart(8)} ${ratio.toFixed(2).padStart(14)} ` +
        `${String(p99).padStart(4)} ms  ${ok ? 'PASS' : 'FAIL'}`,
    );
  }
  return failed;
}

export const listsPart: BenchPart = {
  name: 'lists',
  description:
    'GET /plugins, /instances, /clients and their items against POST /auth/ping, 50 ' +
    'connections, embedded and DATABASE_URL, 10 and 200 instances (ratio >= 0.75, p99 <= 30 ms; ' +
    'BENCH_POSTGRES_URL)',
  run,
};
