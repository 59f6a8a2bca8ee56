/**
 * Child process of the benchmark: Switchboard serving its API, on the embedded database (or on
 * BENCH_DATABASE_URL), with 4 plugins, one Matrix client per token and BENCH_INSTANCES
 * instances spread over plugins and clients, all enabled. Prints one line with the port, a
 * token and the ids to ask for once every instance runs; serves until killed.
 * Input (env): BENCH_HS_URL, BENCH_TOKENS (JSON list of access tokens), BENCH_INSTANCES,
 * BENCH_DATABASE_URL (optional).
 */
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildPlugin } from '../scripts/build-plugins';
import { signToken } from '../src/admins/token';
import { bufferedDestination, createLogger } from '../src/logging/logger';
import { embeddedServices } from './embedded-services';
import { runBenchChild, stopOnSigterm } from './child';

async function main(): Promise<void> {
  const homeserver = process.env.BENCH_HS_URL!;
  const tokens = JSON.parse(process.env.BENCH_TOKENS!) as string[];
  const count = Number(process.env.BENCH_INSTANCES ?? 10);
  const url = process.env.BENCH_DATABASE_URL || null;
  // Request logs are written as in production, to a sink that costs what a file would.
  const logger = createLogger('info', bufferedDestination('/dev/null'));
  const { dataDir, db, switchboard, services } = await embeddedServices(
    'lists',
    { admins: { admin: '' } },
    { url, logger },
  );

  const plugins = [
    await buildPlugin('echo'),
    await buildPlugin('dice'),
    await buildPlugin('karma'),
    await buildPlugin('echo', { id: 'bench.lists', main_class: 'EchoBot' }),
  ];
  for (const [i, plugin] of plugins.entries()) {
    const file = join(dataDir, `plugin${i}.mbp`);
    await writeFile(file, plugin.archive);
    await services.plugins.upload(
      { path: file, size: plugin.archive.length },
      { allowOverride: false },
    );
  }
  const clients: string[] = [];
  for (const token of tokens) {
    clients.push((await services.clients.create({ homeserver, access_token: token })).id);
  }
  for (let i = 0; i < count; i++) {
    await services.instances.put(`bench${i}`, {
      type: plugins[i % plugins.length]!.id,
      primary_user: clients[i % clients.length]!,
    });
  }
  for (;;) {
    const started = (await services.instances.list()).filter((i) => i.started).length;
    if (started === count) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const server = await switchboard.listen({ port: 0, bindAddress: '127.0.0.1' });
  stopOnSigterm(switchboard, db, 0);
  process.stdout.write(
    JSON.stringify({
      port: (server.address() as AddressInfo).port,
      token: signToken('benchmark-unshared-secret', 'admin'),
      plugin: plugins[0]!.id,
      client: clients[0],
      instance: `bench${count - 1}`,
    }) + '\n',
  );
}

runBenchChild(main);
