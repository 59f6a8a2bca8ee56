import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  deleteExpiredOauthStates,
  deleteOauthState,
  deleteUserToken,
  findOauthState,
  findUserToken,
  insertOauthState,
  saveUserToken,
} from '../db/oauth-repository';
import type { SecretBox } from '../secrets/secret-box';

/** What createState makes (randomUUID). */
const STATE_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** How long a started OAuth login may take. */
export const OAUTH_STATE_TTL_MS = 30 * 60_000;

export type OauthService = 'github' | 'jira';

/**
 * Pending OAuth logins and users' tokens, in the database so a login survives a restart and
 * works whichever replica gets the callback. Tokens are sealed; only their owner's requests
 * open them.
 */
export class OauthStore {
  constructor(
    private readonly db: Knex,
    private readonly secrets: SecretBox,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new state parameter for a user's login. */
  async createState(service: OauthService, userId: string): Promise<string> {
    const state = randomUUID();
    await deleteExpiredOauthStates(this.db, new Date(this.now()));
    await insertOauthState(this.db, {
      state,
      service,
      userId,
      expiresAt: new Date(this.now() + OAUTH_STATE_TTL_MS),
    });
    return state;
  }

  /**
   * The user who started the login, or null when the state is unknown or expired. A state that
   * is not a UUID is none of ours and is not looked up (a NUL byte in it would fail the query).
   */
  async userOfState(service: OauthService, state: string): Promise<string | null> {
    if (!STATE_PATTERN.test(state)) return null;
    return findOauthState(this.db, service, state, new Date(this.now()));
  }

  async consumeState(state: string): Promise<void> {
    if (!STATE_PATTERN.test(state)) return;
    await deleteOauthState(this.db, state);
  }

  async saveToken<T extends object>(
    service: OauthService,
    userId: string,
    token: T,
  ): Promise<void> {
    await saveUserToken(this.db, service, userId, this.secrets.seal(JSON.stringify(token)));
  }

  async token<T extends object>(service: OauthService, userId: string): Promise<T | null> {
    const sealed = await findUserToken(this.db, service, userId);
    return sealed ? (JSON.parse(this.secrets.open(sealed)) as T) : null;
  }

  async deleteToken(service: OauthService, userId: string): Promise<void> {
    await deleteUserToken(this.db, service, userId);
  }
}
