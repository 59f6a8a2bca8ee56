/**
 * Child process of the benchmark: Switchboard's services on the embedded database with
 * clients and plugin instances, against the homeserver the parent runs. Prints one line when
 * every instance runs, then serves until killed.
 * Input (env): BENCH_HS_URL, BENCH_TOKENS (JSON list of client tokens), BENCH_PER_CLIENT.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../scripts/build-plugins';
import { parseConfig } from '../src/config/load';
import { openDatabase } from '../src/db/database';
import { bufferedDestination, createLogger } from '../src/logging/logger';
import { createServices } from '../src/services';

/** A plugin answering the command its config names, at once. */
const BENCH_PLUGIN = `const { Plugin } = require('switchboard-plugin');
class BenchBot extends Plugin {
  start() { this.command(String(this.config.command), 'bench', (e, args) => e.respond(args)); }
}
module.exports = { BenchBot };`;

async function main(): Promise<void> {
  const homeserver = process.env.BENCH_HS_URL!;
  const tokens = JSON.parse(process.env.BENCH_TOKENS!) as string[];
  const perClient = Number(process.env.BENCH_PER_CLIENT ?? 4);
  const config = parseConfig({
    server: { unsharedSecret: 'benchmark-unshared-secret' },
    encryptionKey: Buffer.alloc(32, 1).toString('base64'),
    provisioning: { secret: 'benchmark-provisioning-secret' },
  });
  const logger = createLogger('error', bufferedDestination(2));
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-instances-'));
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const db = await openDatabase({ embeddedDir: join(dataDir, 'db') });
  const services = createServices({ config, logger, db });

  const plugin = await buildPlugin(
    'echo',
    { id: 'bench.command', main_class: 'BenchBot' },
    {
      echo: BENCH_PLUGIN,
    },
  );
  const file = join(dataDir, 'bench.mbp');
  await writeFile(file, plugin.archive);
  await services.plugins.upload(
    { path: file, size: plugin.archive.length },
    { allowOverride: false },
  );

  let n = 0;
  for (const token of tokens) {
    const client = await services.clients.create({ homeserver, access_token: token });
    for (let i = 0; i < perClient; i++) {
      await services.instances.put(`i${n}`, {
        type: 'bench.command',
        primary_user: client.id,
        config: `command: i${n}\n`,
      });
      n++;
    }
  }
  const running = (await services.instances.list()).filter((i) => i.started).length;
  process.stdout.write(`${JSON.stringify({ instances: running })}\n`);
  process.on('SIGTERM', () => {
    void services.instances.stopAll().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
