import { exchangeWebFlowCode, refreshToken } from '@octokit/oauth-methods';
import { request as octokitRequest } from '@octokit/request';
import { ConnectionError } from '../bridge/connection-errors';
import type { GithubSettings } from '../config/schema';
import type { Logger } from '../logging/logger';
import {
  OauthCodeRefused,
  OauthFlow,
  queryText,
  type OauthCallbackOutcome,
} from '../oauth/oauth-flow';
import type { OauthStore } from '../oauth/oauth-store';
import { messageOf, statusOf, stripSlash, timedFetch } from './github-requests';

/** A refreshed token is used until a minute before GitHub says it expires. */
const EXPIRY_MARGIN_MS = 60_000;

/** A user's GitHub App user-to-server token; expiry times are absolute epoch milliseconds. */
export interface GithubUserToken {
  access_token: string;
  token_type: string;
  /** null for tokens that do not expire (the App has expiring tokens turned off). */
  expires_at: number | null;
  refresh_token: string | null;
  refresh_token_expires_at: number | null;
}

/**
 * How GitHub's return to Switchboard ended: a login (possibly with an App installation, whose
 * `setupAction` GitHub names), or an installation that linked no account.
 */
export type GithubCallbackOutcome =
  | (OauthCallbackOutcome & { setupAction?: string })
  | { kind: 'installed'; setupAction: string; unlinked: 'noCode' | 'noState' }
  | { kind: 'disabled'; message: string };

export interface GithubLoginDeps {
  settings: GithubSettings;
  oauth: OauthStore;
  logger: Logger;
  now?: () => number;
}

/** Users' GitHub logins: the OAuth callback (with App installations) and their tokens. */
export class GithubLogin {
  private readonly now: () => number;
  private readonly flow: OauthFlow;

  constructor(private readonly deps: GithubLoginDeps) {
    this.now = deps.now ?? Date.now;
    this.flow = new OauthFlow(deps.oauth, 'github', deps.logger);
  }

  /** A new state parameter for a login (or installation) the user starts. */
  start(userId: string): Promise<string> {
    return this.flow.start(userId);
  }

  /** The OAuth endpoints live on the web host; oauth-methods derives that from a baseUrl. */
  private oauthRequest() {
    const baseUrl = stripSlash(this.deps.settings.webUrl);
    return octokitRequest.defaults({ baseUrl, request: { fetch: timedFetch } });
  }

  /** The callback GitHub sends the browser to, after a login or an App installation. */
  async callback(query: Record<string, unknown>): Promise<GithubCallbackOutcome> {
    const setupAction = queryText(query, 'setup_action');
    const state = queryText(query, 'state');
    const code = queryText(query, 'code');
    if (setupAction !== undefined && (code === undefined || state === undefined)) {
      // An installation without "request user authorization" carries no code; one started from
      // GitHub itself rather than our link carries no state, so no Matrix user to log in.
      return {
        kind: 'installed',
        setupAction,
        unlinked: code === undefined ? 'noCode' : 'noState',
      };
    }
    const oauth = this.deps.settings.oauth;
    if (!oauth) return { kind: 'disabled', message: 'GitHub is not configured to support OAuth' };
    const outcome = await this.flow.complete<GithubUserToken>(
      { state, code },
      {
        exchange: async (code) => {
          try {
            const { data } = await exchangeWebFlowCode({
              clientType: 'github-app',
              clientId: oauth.clientId,
              clientSecret: oauth.clientSecret,
              code,
              redirectUrl: oauth.redirectUri,
              request: this.oauthRequest(),
            });
            return this.tokenFrom(data);
          } catch (err) {
            const status = statusOf(err);
            if (status !== undefined && status >= 400 && status < 500) throw new OauthCodeRefused();
            throw err;
          }
        },
      },
    );
    return setupAction === undefined ? outcome : { ...outcome, setupAction };
  }

  private tokenFrom(data: {
    access_token: string;
    token_type: string;
    expires_in?: number | string;
    refresh_token?: string;
    refresh_token_expires_in?: number | string;
  }): GithubUserToken {
    const at = (seconds: number | string | undefined): number | null =>
      seconds === undefined || seconds === '' ? null : this.now() + Number(seconds) * 1000;
    return {
      access_token: data.access_token,
      token_type: data.token_type,
      expires_at: at(data.expires_in),
      refresh_token: data.refresh_token ?? null,
      refresh_token_expires_at: at(data.refresh_token_expires_in),
    };
  }

  /**
   * The user's access token, refreshed when it has expired; null without a usable login (a
   * token that can no longer be refreshed is forgotten, so the user is asked to log in again).
   */
  async userToken(userId: string): Promise<string | null> {
    const token = await this.deps.oauth.token<GithubUserToken>('github', userId);
    if (!token) return null;
    if (token.expires_at === null || token.expires_at - EXPIRY_MARGIN_MS > this.now()) {
      return token.access_token;
    }
    const refreshable =
      token.refresh_token !== null &&
      (token.refresh_token_expires_at === null || token.refresh_token_expires_at > this.now());
    const oauth = this.deps.settings.oauth;
    if (!refreshable || !oauth) {
      await this.deps.oauth.deleteToken('github', userId);
      return null;
    }
    try {
      const { data } = await refreshToken({
        clientType: 'github-app',
        clientId: oauth.clientId,
        clientSecret: oauth.clientSecret,
        refreshToken: token.refresh_token!,
        request: this.oauthRequest(),
      });
      const fresh = this.tokenFrom(data);
      await this.deps.oauth.saveToken('github', userId, fresh);
      return fresh.access_token;
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && status >= 400 && status < 500) {
        await this.deps.oauth.deleteToken('github', userId);
        return null;
      }
      this.deps.logger.warn({ err: messageOf(err) }, 'GitHub token refresh failed');
      throw new ConnectionError('HS_UNKNOWN', 'Could not refresh the GitHub login');
    }
  }
}
