/** Validated endpoints against a bare express app answering the same JSON. */
import {
  DURATION_S,
  ROUNDS,
  measure,
  median,
  mib,
  startServers,
  type BenchPart,
  type Measurement,
} from '../lib';

const TARGET_RATIO = 0.55;

async function run(): Promise<boolean> {
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
    console.log(
      `embedded database server idle: ${mib(info.embeddedDb.pssBytes)} PSS over ` +
        `${info.embeddedDb.processes.length} processes`,
    );
    console.log(`server process RSS after start: ${mib(info.rssBytes)}`);
    console.log(`target: every ratio >= ${TARGET_RATIO} x bare express`);
    return failed;
  } finally {
    servers.stop();
  }
}

export const apiPart: BenchPart = {
  name: 'api',
  description: 'POST /auth/ping and GET /v1/connectiontypes against bare express (ratio >= 0.55)',
  run,
};
