/**
 * Child process of the benchmark: Switchboard with its provisioning bot on the homeserver the
 * parent runs, one inbound webhook per room, and a bare express app answering webhook posts as
 * Switchboard does (parse the JSON body, answer 202 {"ok":true}). Prints one JSON line with
 * the ports and hook paths, then serves until killed.
 * Input (env): BENCH_HS_URL, BENCH_BOT (JSON {userId, accessToken}), BENCH_USER (user ID of
 * the rooms' owner), BENCH_ROOMS (JSON list of room ids).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WEBHOOK } from '../src/bridge/connection-types';
import { servicesOnHomeserver } from './embedded-services';
import { runBenchChild, stopOnSigterm } from './child';

function listen(app: express.Express): Promise<number> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
}

async function main(): Promise<void> {
  const { db, switchboard, services, owner, rooms } = await servicesOnHomeserver('webhooks', {
    urlPrefix: 'http://127.0.0.1/webhook/',
  });
  const { bridge } = services;
  const hooks: string[] = [];
  for (const [i, room] of rooms.entries()) {
    const item = await bridge.connections.create(room, WEBHOOK.eventType, owner, {
      name: `bench-${i}`,
    });
    hooks.push(new URL(String(item.secrets!.url)).pathname);
  }
  const switchboardPort = await listen(switchboard.app(['webhooks']));

  const bare = express();
  bare.post('/webhook/:hookId', express.json(), (_req, res) => {
    res.status(202).json({ ok: true });
  });
  const barePort = await listen(bare);
  process.stdout.write(`${JSON.stringify({ switchboardPort, barePort, hooks })}\n`);
  stopOnSigterm(switchboard, db);
}

runBenchChild(main);
