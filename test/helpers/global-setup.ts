/**
 * Before the test files run: one embedded PostgreSQL server per jest worker, each with a
 * migrated template database that the suites copy (test/helpers/databases.ts). The servers
 * are this process's children and are stopped by the global teardown.
 */
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase } from '../../src/db/database';
import type { EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { startTestServer, TEMPLATE_DATABASE, TEST_SERVERS_ENV } from './databases';

export interface TestServers {
  dir: string;
  servers: EmbeddedPostgres[];
}

export default async function globalSetup(config: { maxWorkers: number }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-test-servers-'));
  // Run as root, the servers' OS user must pass through to their data directories.
  await chmod(dir, 0o755);
  const count = Math.max(1, config.maxWorkers);
  const servers = await Promise.all(
    Array.from({ length: count }, (_, i) => startTestServer(join(dir, `worker-${i + 1}`))),
  );
  (globalThis as { switchboardTestServers?: TestServers }).switchboardTestServers = {
    dir,
    servers,
  };
  for (const server of servers) {
    const admin = await connectDatabase('embedded', server.connectionParams('postgres'), {
      migrate: false,
    });
    await admin.knex.raw(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    await admin.close();
    const template = await connectDatabase('embedded', server.connectionParams(TEMPLATE_DATABASE));
    await template.close();
  }
  process.env[TEST_SERVERS_ENV] = JSON.stringify(
    servers.map((server) => server.connectionParams('postgres')),
  );
}
