import type { Logger } from '../logging/logger';
import type { OauthService, OauthStore } from './oauth-store';

/** The provider refused the code (expired, used, not ours): the user must log in again. */
export class OauthCodeRefused extends Error {
  override name = 'OauthCodeRefused';
}

/** How a login's return to Switchboard ended; the ingress layer decides what the browser sees. */
export type OauthCallbackOutcome =
  | { kind: 'linked'; userId: string }
  | { kind: 'missing'; parameter: 'state' | 'code' }
  | { kind: 'unknownState' }
  | { kind: 'forbidden'; userId: string }
  | { kind: 'codeRefused' }
  | { kind: 'exchangeFailed' };

export interface OauthCallbackQuery {
  state?: string | undefined;
  code?: string | undefined;
}

export interface OauthExchange<T extends object> {
  /** Trades the code for the user's token; throws OauthCodeRefused when the provider says no. */
  exchange(code: string): Promise<T>;
  /** Whether the user may link an account at all (bridge permissions); everyone when absent. */
  mayLogIn?: (userId: string) => Promise<boolean>;
}

/**
 * The authorisation-code login both GitHub and JIRA use: a state per started login (kept in
 * the database, so any replica takes the callback), the code traded for a token, the token
 * sealed and kept, the state spent so a replayed callback URL logs nobody in again.
 */
export class OauthFlow {
  constructor(
    private readonly store: OauthStore,
    private readonly service: OauthService,
    private readonly logger: Logger,
  ) {}

  private get label(): string {
    return this.service === 'github' ? 'GitHub' : 'JIRA';
  }

  /** A new state parameter for a login the user starts. */
  start(userId: string): Promise<string> {
    return this.store.createState(this.service, userId);
  }

  async complete<T extends object>(
    query: OauthCallbackQuery,
    provider: OauthExchange<T>,
  ): Promise<OauthCallbackOutcome> {
    const { state, code } = query;
    if (state === undefined || state === '') return { kind: 'missing', parameter: 'state' };
    if (code === undefined || code === '') return { kind: 'missing', parameter: 'code' };
    const userId = await this.store.userOfState(this.service, state);
    if (userId === null) return { kind: 'unknownState' };
    if (provider.mayLogIn && !(await provider.mayLogIn(userId))) {
      this.logger.info({ userId }, `${this.label} login refused: no login permission`);
      return { kind: 'forbidden', userId };
    }
    let token: T;
    try {
      token = await provider.exchange(code);
    } catch (err) {
      if (err instanceof OauthCodeRefused) return { kind: 'codeRefused' };
      this.logger.warn(
        { userId, service: this.service, err: err instanceof Error ? err.message : String(err) },
        `${this.label} OAuth code exchange failed`,
      );
      return { kind: 'exchangeFailed' };
    }
    await this.store.saveToken(this.service, userId, token);
    await this.store.consumeState(state);
    this.logger.info({ userId }, `${this.label} account linked`);
    return { kind: 'linked', userId };
  }
}

/** A query parameter as text, when it is one non-empty string. */
export function queryText(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
