/** Memory of plugin instances: a plugin host's idle size and what 100 instances add. */
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import { SERVER_NODE_FLAGS, mib, spawn, stopChild, type BenchPart } from '../lib';

const MiB = 1024 * 1024;
const INSTANCES_ADD_TARGET = 50 * MiB;
const HOST_PSS_TARGET = 30 * MiB;

/**
 * Instances of the echo example plugin on one idle client, in a child process that measures
 * the PSS of itself and its descendants (server, plugin hosts): the host with one instance,
 * and what the instances add to the whole tree.
 */
async function run(): Promise<boolean> {
  const hs = await TestHomeserver.start();
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const owner = hs.registerUser('bench-owner');
    const bot = hs.registerUser('bench-plugins');
    await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${owner.accessToken}` },
      body: JSON.stringify({ invite: [bot.userId] }),
    });
    child = spawn(
      process.execPath,
      [...SERVER_NODE_FLAGS, '--expose-gc', '--import', 'tsx', join(__dirname, '..', 'plugins.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          BENCH_HS_URL: hs.url,
          BENCH_TOKENS: JSON.stringify([bot.accessToken]),
        },
      },
    );
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const result = JSON.parse(line) as {
      instances: number;
      hosts: number;
      baseline: number;
      hostPss: number;
      added: number;
    };
    const hostOk = result.hostPss <= HOST_PSS_TARGET;
    const addedOk = result.added <= INSTANCES_ADD_TARGET;
    console.log(
      `\nplugin host with the echo plugin and one instance, idle: ${mib(result.hostPss)} PSS ` +
        `(target ≤ ${mib(HOST_PSS_TARGET)}) ${hostOk ? 'ok' : 'too much'}\n` +
        `${result.instances} running echo instances in ${result.hosts} host(s) add ` +
        `${mib(result.added)} PSS over the whole process tree (server ${mib(result.baseline)} ` +
        `before; target ≤ ${mib(INSTANCES_ADD_TARGET)}) ${addedOk ? 'ok' : 'too much'}`,
    );
    return !(hostOk && addedOk);
  } finally {
    if (child) await stopChild(child);
    await hs.close();
  }
}

export const pluginsPart: BenchPart = {
  name: 'plugins',
  description:
    'plugin host idle PSS (≤ 30 MiB) and PSS that BENCH_PLUGIN_INSTANCES (100) echo instances add (≤ 50 MiB)',
  run,
};
