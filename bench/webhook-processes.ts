/**
 * The two child processes of the webhook benchmarks: the test homeserver (homeserver.ts) and
 * Switchboard with one inbound webhook per room (webhooks.ts), and the parent's side of their
 * IPC questions.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_NODE_FLAGS, profileFlags, spawn, stopChild } from './lib';

export interface WebhookProcesses {
  switchboardPort: number;
  barePort: number;
  /** The path of each room's hook, in room order. */
  hooks: string[];
  /** Bot messages stored on the homeserver so far. */
  delivered: () => Promise<number>;
  /** When each numbered message ("seq <room> <n>") arrived, and whether each room's are in order. */
  arrivals: () => Promise<{ arrivals: Record<string, number>; inOrder: boolean }>;
  /**
   * Each room's sender posts `count` numbered messages ("seq <room> <n>") to its hook, one after
   * another; `sending` hears of each just before it goes.
   */
  postNumbered: (count: number, sending?: (key: string) => void) => Promise<void>;
  stop: () => Promise<void>;
}

export async function startWebhookProcesses(options: {
  rooms: number;
  /** Extra environment of the homeserver process (its send latency and capacity). */
  homeserverEnv?: Record<string, string>;
}): Promise<WebhookProcesses> {
  const children: ReturnType<typeof spawn>[] = [];
  const run = (script: string, env: Record<string, string>, flags: string[] = []) => {
    const child = spawn(
      process.execPath,
      [...flags, ...profileFlags(), '--import', 'tsx', join(__dirname, script)],
      { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...env } },
    );
    children.push(child);
    return child;
  };
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
  };
  try {
    const homeserver = run('homeserver.ts', {
      BENCH_HOOK_ROOMS: String(options.rooms),
      ...options.homeserverEnv,
    });
    const ask = async <T>(question: string): Promise<T> => {
      const answer = once(homeserver, 'message');
      homeserver.send(question);
      return ((await answer) as [T])[0];
    };
    const [hs] = (await once(homeserver, 'message')) as [
      { url: string; bot: { userId: string }; owner: string; rooms: string[] },
    ];
    const switchboard = run(
      'webhooks.ts',
      {
        BENCH_HS_URL: hs.url,
        BENCH_BOT: JSON.stringify(hs.bot),
        BENCH_USER: hs.owner,
        BENCH_ROOMS: JSON.stringify(hs.rooms),
      },
      SERVER_NODE_FLAGS,
    );
    const [line] = (await once(createInterface({ input: switchboard.stdout! }), 'line')) as [
      string,
    ];
    const info = JSON.parse(line) as { switchboardPort: number; barePort: number; hooks: string[] };
    const postNumbered = async (count: number, sending?: (key: string) => void) => {
      await Promise.all(
        info.hooks.map(async (path, room) => {
          for (let seq = 0; seq < count; seq++) {
            sending?.(`${room} ${seq}`);
            const res = await fetch(`http://127.0.0.1:${info.switchboardPort}${path}`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ text: `seq ${room} ${seq}` }),
            });
            if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
            await res.arrayBuffer();
          }
        }),
      );
    };
    return {
      ...info,
      postNumbered,
      delivered: async () => (await ask<{ delivered: number }>('delivered')).delivered,
      arrivals: () => ask('arrivals'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
