/**
 * Child process of the benchmark: Switchboard's services on the embedded database with
 * clients and plugin instances, against the homeserver the parent runs. Prints one line when
 * every instance runs, then serves until killed.
 * Input (env): BENCH_HS_URL, BENCH_TOKENS (JSON list of client tokens), BENCH_PER_CLIENT.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin } from '../scripts/build-plugins';
import { embeddedServices } from './embedded-services';
import { runBenchChild, stopOnSigterm } from './child';

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
  const { dataDir, db, switchboard, services } = await embeddedServices('instances');

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
  stopOnSigterm(switchboard, db);
}

runBenchChild(main);
