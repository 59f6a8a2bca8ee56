/**
 * Child process of the benchmark: a bare express app answering the same JSON as Switchboard,
 * and Switchboard itself (full request and response validation) on the embedded database.
 * Prints one JSON line with the ports and memory figures, then serves until killed; answers
 * 'rss-start'/'rss-stop' messages with its peak RSS in between.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { signToken } from '../src/admins/token';
import { parseConfig } from '../src/config/load';
import { openDatabase } from '../src/db/database';
import { processTreeMemory } from './process-memory';
import { bufferedDestination, createLogger } from '../src/logging/logger';
import { Switchboard } from '../src/app/switchboard';
import { runBenchChild } from './child';

function listen(app: express.Express): Promise<number> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
}

async function main(): Promise<void> {
  // The default deployment: the embedded database server with its data in a data directory.
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-'));
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const config = parseConfig({
    dataDir,
    server: {
      unsharedSecret: 'benchmark-unshared-secret',
      // The login part measures bcrypt's load, not the limiter's refusals.
      loginRateLimit: { perAddress: 1_000_000, perUser: 1_000_000 },
    },
    encryptionKey: Buffer.alloc(32, 1).toString('base64'),
    provisioning: { secret: 'benchmark-provisioning-secret' },
    admins: { admin: '' },
    webhooks: { urlPrefix: 'http://127.0.0.1/webhook/' },
    jira: { webhookSecret: 'benchmark-jira-secret' },
  });
  // Request logs are written as in production, to a sink that costs what a file would.
  const logger = createLogger(
    process.env.BENCH_LOG_LEVEL ?? 'info',
    bufferedDestination('/dev/null'),
  );

  const db = await openDatabase({ dataDir, logger });
  process.on('SIGTERM', () => {
    void db.close().then(() => process.exit(0));
  });

  const switchboard = new Switchboard({ config, logger, db }).app();

  const bare = express();
  bare.post('/_matrix/maubot/v1/auth/ping', (_req, res) => {
    res.json({ username: 'admin', features: config.apiFeatures });
  });
  bare.get('/v1/connectiontypes', (_req, res) => {
    const types: Record<string, unknown> = {};
    for (const [type, eventType, service] of [
      ['JiraProject', 'uk.half-shot.matrix-hookshot.jira.project', 'jira'],
      ['Webhook', 'uk.half-shot.matrix-hookshot.generic.hook', 'generic'],
    ] as const) {
      types[type] = { type, eventType, service, botUserId: config.provisioning.botUserId };
    }
    res.json(types);
  });

  process.stdout.write(
    JSON.stringify({
      barePort: await listen(bare),
      switchboardPort: await listen(switchboard),
      token: signToken(config.server.unsharedSecret, 'admin'),
      provisioningSecret: config.provisioning.secret,
      // The database server's processes are this process's children.
      embeddedDb: processTreeMemory(process.pid, { exclude: [process.pid] }),
      rssBytes: process.memoryUsage().rss,
    }) + '\n',
  );
}

// Peak-memory sampling on request from the parent (over IPC), for the upload benchmark.
let rssBaseline = 0;
let rssPeak = 0;
let sampler: NodeJS.Timeout | undefined;
process.on('message', (message: string) => {
  if (message === 'rss-start') {
    global.gc?.();
    rssBaseline = rssPeak = process.memoryUsage.rss();
    sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 1);
  } else if (message === 'rss-stop') {
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    process.send?.({ rssBaseline, rssPeak });
  }
});

// A clean exit on SIGTERM (after stopping the database server, above) lets --cpu-prof write its
// profile (BENCH_PROFILE=1).

runBenchChild(main);
