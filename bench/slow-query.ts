/**
 * Child process of the benchmark: Switchboard on the embedded database, serving its API, with
 * one Matrix client and BENCH_SLOW_INSTANCES instances of a plugin whose db.query runs
 * `select pg_sleep(3)` over and over. Prints one line with the port and a token once they
 * run; answers an 'active' message with the number of those statements running now.
 * Input (env): BENCH_HS_URL, BENCH_TOKENS (JSON list with one access token).
 */
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin } from '../scripts/build-plugins';
import { signToken } from '../src/admins/token';
import { embeddedServices } from './embedded-services';
import { runBenchChild } from './child';

export const SLOW_STATEMENT = 'select pg_sleep(3)';

const SLOW_PLUGIN = `const { Plugin } = require('switchboard-plugin');
class SlowBot extends Plugin {
  start() {
    this.running = true;
    void this.loop();
  }
  stop() {
    this.running = false;
  }
  async loop() {
    while (this.running) {
      try {
        await this.db.query(${JSON.stringify(SLOW_STATEMENT)});
      } catch (err) {
        this.log.warn('slow query failed: ' + err.message);
      }
    }
  }
}
module.exports = { SlowBot };`;

async function main(): Promise<void> {
  const homeserver = process.env.BENCH_HS_URL!;
  const [token] = JSON.parse(process.env.BENCH_TOKENS!) as string[];
  const instances = Number(process.env.BENCH_SLOW_INSTANCES ?? 2);
  const { dataDir, db, switchboard, services } = await embeddedServices('slow-query', {
    admins: { admin: '' },
  });
  const client = await services.clients.create({ homeserver, access_token: token! });
  const plugin = await buildPlugin(
    'karma',
    { id: 'bench.slow', main_class: 'SlowBot' },
    { karma: SLOW_PLUGIN },
  );
  const file = join(dataDir, 'slow.mbp');
  await writeFile(file, plugin.archive);
  await services.plugins.upload(
    { path: file, size: plugin.archive.length },
    { allowOverride: false },
  );
  for (let i = 0; i < instances; i++) {
    await services.instances.put(`slow${i}`, { type: plugin.id, primary_user: client.id });
  }
  const app = switchboard.app();
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  process.on('message', (message: string) => {
    if (message !== 'active') return;
    void db.knex
      .raw(`select count(*)::int as n from pg_stat_activity where state = 'active' and query = ?`, [
        SLOW_STATEMENT,
      ])
      .then((r: { rows: { n: number }[] }) => process.send?.({ active: r.rows[0]!.n }));
  });
  process.on('SIGTERM', () => {
    server.close();
    void switchboard
      .stop()
      .then(() => db.close())
      .then(() => process.exit(0));
  });
  process.stdout.write(
    JSON.stringify({
      port: (server.address() as AddressInfo).port,
      token: signToken('benchmark-unshared-secret', 'admin'),
      instances: (await services.instances.list()).filter((i) => i.started).length,
    }) + '\n',
  );
}

runBenchChild(main);
