/**
 * Child process of the transformation benchmark: Switchboard with JavaScript transformation
 * functions on (default limits) and its provisioning bot on the homeserver the parent runs, with
 * hostile hooks (an endless loop, an allocating loop, a 15 MiB result) in one room and friendly
 * ones in another. Prints one JSON line with the port and hook paths, then serves until killed. Answers
 * 'rss' (or 'rss-gc', after a full garbage collection) with its RSS and the runners started.
 * Input (env): BENCH_HS_URL, BENCH_BOT (JSON {userId, accessToken}), BENCH_USER, BENCH_ROOMS.
 */
import type { AddressInfo } from 'node:net';
import { WEBHOOK } from '../src/bridge/connection-types';
import { integrationsOf } from '../src/app/integrations';
import { servicesOnHomeserver } from './embedded-services';
import { runBenchChild, stopOnSigterm } from './child';

const FRIENDLY = 'result = {version: "v2", plain: "**" + data.n + "** ok"};';
/**
 * The hooks, by name: the room (the attacker's, 0, or another, 1), waitForComplete, and the
 * function. Failure notices go to the attacker's room, so they do not queue before the friendly
 * hooks' messages.
 */
const HOOKS = {
  loop: [0, true, 'while (true) {}'],
  alloc: [0, false, 'const a = []; while (true) a.push({ n: a.length, s: "x" + a.length });'],
  huge: [0, false, 'result = "x".repeat(15 * 1024 * 1024);'],
  friendly: [1, true, FRIENDLY],
  friendly2: [1, true, FRIENDLY],
} as const;

async function main(): Promise<void> {
  const { db, switchboard, services, owner, rooms } = await servicesOnHomeserver(
    'transformations',
    {
      urlPrefix: 'http://127.0.0.1/webhook/',
      allowJsTransformationFunctions: true,
    },
  );
  const { bridge } = services;
  const hooks: Record<string, string> = {};
  for (const [name, [room, waitForComplete, transformationFunction]] of Object.entries(HOOKS)) {
    const item = await bridge.connections.create(rooms[room]!, WEBHOOK.eventType, owner, {
      name,
      waitForComplete,
      transformationFunction,
    });
    hooks[name] = new URL(String(item.secrets!.url)).pathname;
  }
  const app = switchboard.app(['webhooks']);
  const port = await new Promise<number>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
  process.on('message', (message: string) => {
    if (message === 'rss-gc') {
      global.gc?.();
      global.gc?.();
    } else if (message !== 'rss') return;
    process.send!({
      rss: process.memoryUsage().rss,
      spawned: integrationsOf(bridge).webhooks?.transformations?.spawned ?? 0,
      runners: integrationsOf(bridge).webhooks?.transformations?.workers().length ?? 0,
    });
  });
  process.stdout.write(`${JSON.stringify({ port, hooks })}\n`);
  stopOnSigterm(switchboard, db);
}

runBenchChild(main);
