import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load';
import type { ConfigInput } from '../src/config/schema';
import { openDatabase } from '../src/db/database';
import { bufferedDestination, createLogger } from '../src/logging/logger';
import { createServices } from '../src/services';

/**
 * Switchboard's services on a fresh embedded database in a temporary directory (removed at
 * exit), logging errors only, to stderr: stdout carries the benchmark child's result line.
 */
export async function embeddedServices(name: string, overrides: Partial<ConfigInput> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), `switchboard-bench-${name}-`));
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const config = parseConfig({
    dataDir,
    server: { unsharedSecret: 'benchmark-unshared-secret' },
    encryptionKey: Buffer.alloc(32, 1).toString('base64'),
    provisioning: { secret: 'benchmark-provisioning-secret' },
    ...overrides,
  });
  const logger = createLogger('error', bufferedDestination(2));
  const db = await openDatabase({ embeddedDir: join(dataDir, 'db') });
  return { dataDir, db, services: createServices({ config, logger, db }) };
}
