/**
 * npm run bench: throughput of Switchboard's validated endpoints against a bare express app
 * answering the same JSON, measured in the same run on this machine, printed as ratios.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGET_RATIO = 0.55;

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

function startServers(): Promise<{ info: ServerInfo; stop: () => void }> {
  const pin = pinnable();
  const child = spawn(
    pin ? 'taskset' : process.execPath,
    [
      ...(pin ? ['-c', '0', process.execPath] : []),
      '--expose-gc',
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : []),
      '--import',
      'tsx',
      join(__dirname, 'servers.ts'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`benchmark servers exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve({ info: JSON.parse(line) as ServerInfo, stop: () => child.kill() });
    });
  });
}

interface Measurement {
  rps: number;
  p99: number;
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

async function main(): Promise<void> {
  const { info, stop } = await startServers();
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
    for (const c of cases) {
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
    console.log(`\nembedded database idle memory: ${mib(info.embeddedDbRssBytes)} RSS`);
    console.log(`server process RSS after start: ${mib(info.rssBytes)}`);
    console.log(`target: every ratio >= ${TARGET_RATIO} x bare express`);
    if (failed) process.exitCode = 1;
  } finally {
    stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
