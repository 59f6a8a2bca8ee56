import request from 'supertest';
import type { ConfigInput } from '../../src/config/schema';
import { createLogger, type Logger } from '../../src/logging/logger';
import {
  TestHomeserver,
  type RegisteredUser,
  type TestHomeserverOptions,
} from '../../testing/homeserver/test-homeserver';
import { createTestApp, type TestApp } from './app';
import { TEST_PROVISIONING_SECRET, testConfig } from './config';
import { openTestDatabase, type TestDatabaseKind } from './databases';
import type { Database } from '../../src/db/database';
import { waitFor } from './wait';

export const CS = '/_matrix/client/v3';
export const PROVISIONING_AUTH = `Bearer ${TEST_PROVISIONING_SECRET}`;

/** A Switchboard with its provisioning bot on a test homeserver, and helpers to drive both. */
export interface BridgeHarness {
  hs: TestHomeserver;
  t: TestApp;
  bot: RegisteredUser;
  /** Makes a user on the homeserver. */
  user(localpart: string): RegisteredUser;
  /** A room made by `owner` with the bot invited (and joined) and the given power levels. */
  room(
    owner: RegisteredUser,
    options?: {
      users?: Record<string, number>;
      levels?: Record<string, unknown>;
      members?: RegisteredUser[];
    },
  ): Promise<string>;
  /** A provisioning API request for `userId`. */
  v1(
    method: 'get' | 'put' | 'patch' | 'delete' | 'post',
    path: string,
    userId: string,
  ): request.Test;
  /** Client-Server API call on the homeserver as a user. */
  matrix(user: RegisteredUser, method: string, path: string, body?: unknown): Promise<Response>;
  /**
   * Stops Switchboard and starts a new one on the same database (and homeserver); `whileStopped`
   * runs in between.
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export async function startBridge(
  kind: TestDatabaseKind,
  options: {
    config?: Partial<ConfigInput>;
    logger?: Logger;
    db?: Database;
    homeserver?: TestHomeserverOptions;
  } = {},
): Promise<BridgeHarness> {
  const hs = await TestHomeserver.start(options.homeserver);
  const bot = hs.registerUser('bridgebot');
  const makeConfig = () =>
    testConfig({
      ...options.config,
      provisioning: {
        secret: TEST_PROVISIONING_SECRET,
        botUserId: bot.userId,
        bot: { homeserver: hs.url, accessToken: bot.accessToken },
        ...options.config?.provisioning,
      },
    });
  const db = options.db ?? (await openTestDatabase(kind));
  const logger = options.logger ?? createLogger('silent');
  const start = async () => {
    const app = await createTestApp(kind, {
      config: makeConfig(),
      db,
      logger,
      clientPool: { retryBaseMs: 100, retryMaxMs: 500 },
      sendRetry: { attempts: 5, baseDelayMs: 50 },
    });
    await app.bridge.bot.ready();
    return app;
  };
  let t = await start();
  let txn = 0;

  const matrix = (user: RegisteredUser, method: string, path: string, body?: unknown) =>
    fetch(`${hs.url}${CS}${path}`, {
      method,
      headers: { Authorization: `Bearer ${user.accessToken}` },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const harness: BridgeHarness = {
    hs,
    get t() {
      return t;
    },
    bot,
    user: (localpart) => hs.registerUser(localpart),
    async room(owner, opts = {}) {
      const users = { [owner.userId]: 100, ...opts.users };
      const res = await matrix(owner, 'POST', '/createRoom', {
        invite: [bot.userId, ...(opts.members ?? []).map((m) => m.userId)],
        power_level_content_override: { users, ...opts.levels },
      });
      const { room_id: roomId } = (await res.json()) as { room_id: string };
      for (const member of opts.members ?? []) {
        await matrix(member, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
      }
      await waitFor(() => t.bridge.bot.isJoined(roomId), { what: 'the bot to join' });
      return roomId;
    },
    v1(method, path, userId) {
      const sep = path.includes('?') ? '&' : '?';
      const agent = request(t.app);
      return agent[method](`/v1${path}${sep}userId=${encodeURIComponent(userId)}`).set(
        'Authorization',
        PROVISIONING_AUTH,
      );
    },
    matrix: (user, method, path, body) => {
      if (method === 'PUT' && path.includes('/send/') && path.endsWith('/')) {
        path += `txn${++txn}`;
      }
      return matrix(user, method, path, body);
    },
    async restart(whileStopped) {
      await t.close();
      await whileStopped?.();
      t = await start();
    },
    async close() {
      await t.close();
      if (!options.db) await db.close();
      await hs.close();
    },
  };
  return harness;
}

/**
 * A user's OAuth login through the provisioning API as Dimension does it: the login URL's
 * `state`, then the browser's return to `callback` with the provider's `code`. Answers the
 * callback's response.
 */
export async function oauthLogin(
  b: BridgeHarness,
  flow: { start: string; urlField: 'url' | 'user_url'; callback: string },
  userId: string,
  code: string,
): Promise<request.Response> {
  const start = await b.v1('get', flow.start, userId);
  expect(start.status).toBe(200);
  const loginUrl = (start.body as Record<string, string>)[flow.urlField]!;
  const state = new URL(loginUrl).searchParams.get('state')!;
  return request(b.t.app).get(flow.callback).query({ code, state });
}

/** alice and bob, and alice's room with the bot and bob as moderators. */
export async function aliceAndBobRoom(
  b: BridgeHarness,
): Promise<{ alice: RegisteredUser; bob: RegisteredUser; roomId: string }> {
  const alice = b.user('alice');
  const bob = b.user('bob');
  const roomId = await b.room(alice, {
    users: { [b.bot.userId]: 50, [bob.userId]: 50 },
    members: [bob],
  });
  return { alice, bob, roomId };
}
