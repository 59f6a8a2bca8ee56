/**
 * Child process of the benchmark: Switchboard's services on the embedded database with one
 * Matrix client, then instances of the echo example plugin. Measures the proportional set size
 * (PSS) of this process and all its descendants (the plugin hosts, and a database server if
 * the embedded database runs one) with no instance, of the host alone with one instance, and
 * of everything with BENCH_PLUGIN_INSTANCES instances, each after a while idle.
 * Input (env): BENCH_HS_URL, BENCH_TOKENS (JSON list with one access token).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin } from '../scripts/build-plugins';
import { embeddedServices } from './embedded-services';
import { pssOf, processTree } from './lib';
import { runBenchChild } from './child';

const INSTANCES = Number(process.env.BENCH_PLUGIN_INSTANCES ?? 100);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);

async function idle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  for (let i = 0; i < 3; i++) global.gc?.();
}

async function treePss(): Promise<number> {
  let total = 0;
  for (const pid of await processTree(process.pid)) total += (await pssOf(pid)) ?? 0;
  return total;
}

async function main(): Promise<void> {
  const homeserver = process.env.BENCH_HS_URL!;
  const [token] = JSON.parse(process.env.BENCH_TOKENS!) as string[];
  const { dataDir, db, switchboard, services } = await embeddedServices('plugins');
  const client = await services.clients.create({ homeserver, access_token: token! });
  const echo = await buildPlugin('echo');
  const file = join(dataDir, 'echo.mbp');
  await writeFile(file, echo.archive);
  await services.plugins.upload(
    { path: file, size: echo.archive.length },
    { allowOverride: false },
  );
  const create = (i: number) =>
    services.instances.put(`echo${i}`, { type: echo.id, primary_user: client.id });

  // What every instance start uses once (code compiled on first use) is part of the baseline.
  await create(0);
  await services.instances.delete('echo0');
  await idle();
  const baseline = await treePss();

  await create(1);
  await idle();
  const hostPid = services.instances.runtime.hostOf('echo1')!.pid!;
  const hostPss = (await pssOf(hostPid))!;

  for (let i = 2; i <= INSTANCES; i++) await create(i);
  await idle();
  const running = (await services.instances.list()).filter((i) => i.started).length;
  const hosts = services.instances.runtime.hostCount();
  const total = await treePss();

  process.stdout.write(
    JSON.stringify({ instances: running, hosts, baseline, hostPss, added: total - baseline }) +
      '\n',
  );
  await switchboard.stop();
  await db.close();
  process.exit(0);
}

runBenchChild(main);
