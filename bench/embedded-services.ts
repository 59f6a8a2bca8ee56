import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load';
import type { ConfigInput } from '../src/config/schema';
import { openDatabase } from '../src/db/database';
import { bufferedDestination, createLogger } from '../src/logging/logger';
import { Switchboard } from '../src/app/switchboard';
import type { Logger } from '../src/logging/logger';

interface ServicesOptions {
  /** A PostgreSQL server to use instead of the embedded one. */
  url?: string | null;
  logger?: Logger;
}

/**
 * Switchboard's services on a fresh embedded database (or on `url`) with a temporary data
 * directory (removed at exit, which must come after `db.close()`), logging errors only, to
 * stderr unless told otherwise: stdout carries the benchmark child's result line.
 */
export async function embeddedServices(
  name: string,
  overrides: Partial<ConfigInput> = {},
  { url = null, logger = createLogger('error', bufferedDestination(2)) }: ServicesOptions = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), `switchboard-bench-${name}-`));
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const config = parseConfig({
    dataDir,
    server: { unsharedSecret: 'benchmark-unshared-secret' },
    encryptionKey: Buffer.alloc(32, 1).toString('base64'),
    provisioning: { secret: 'benchmark-provisioning-secret' },
    ...overrides,
  });
  const db = await openDatabase({ url, dataDir, logger });
  const switchboard = new Switchboard({ config, logger, db });
  return { dataDir, db, switchboard, services: switchboard.services };
}

/**
 * For a benchmark child whose parent runs the homeserver (env: BENCH_HS_URL, BENCH_BOT as JSON
 * {userId, accessToken}, BENCH_USER, BENCH_ROOMS as a JSON list): the services with the
 * provisioning bot on it, started, once the bot is in every room.
 */
export async function servicesOnHomeserver(name: string, webhooks: ConfigInput['webhooks']) {
  const bot = JSON.parse(process.env.BENCH_BOT!) as { userId: string; accessToken: string };
  const owner = process.env.BENCH_USER!;
  const rooms = JSON.parse(process.env.BENCH_ROOMS!) as string[];
  const { db, switchboard, services } = await embeddedServices(name, {
    provisioning: {
      secret: 'benchmark-provisioning-secret',
      botUserId: bot.userId,
      bot: { homeserver: process.env.BENCH_HS_URL!, accessToken: bot.accessToken },
    },
    webhooks,
  });
  const { bridge } = services;
  await switchboard.start();
  await bridge.bot.ready();
  while (!rooms.every((room) => bridge.bot.isJoined(room))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { db, switchboard, services, owner, rooms };
}
