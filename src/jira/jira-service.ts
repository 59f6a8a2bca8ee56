import type { JiraSettings } from '../config/schema';
import { ConnectionError } from '../bridge/connection-errors';
import type { Logger } from '../logging/logger';
import { OauthFlow, queryText, type OauthCallbackOutcome } from '../oauth/oauth-flow';
import type { OauthStore } from '../oauth/oauth-store';
import { KeyedLock } from '../util/keyed-lock';
import {
  AtlassianError,
  describe,
  fetchAtlassian,
  join,
  projectAnswer,
  projectPageAnswer,
  resourcesAnswer,
  tokenAnswer,
} from './atlassian-http';

/** What JIRA Cloud's OAuth 2.0 (3LO) grants a user; the scopes Dimension's flow needs. */
export const JIRA_SCOPES =
  'read:jira-work write:jira-work read:jira-user read:me read:account offline_access';

/** A token is refreshed when it expires within this long. */
const REFRESH_MARGIN_MS = 60_000;
/** Accessible resources are remembered this long per user (Dimension polls every second). */
const RESOURCE_CACHE_MS = 60_000;
const PROJECT_PAGE_SIZE = 50;
/** A bound on project pages, so a misbehaving API that never says isLast cannot loop forever. */
const MAX_PROJECT_PAGES = 200;

/** The stored token of one user (sealed at rest by the OAuth store). */
export interface JiraToken {
  accessToken: string;
  refreshToken: string | null;
  /** Absolute expiry, ms since the epoch. */
  expiresAt: number;
  /** The API host the token is for (always Atlassian's gateway: only JIRA Cloud is supported). */
  instance: string;
}

/** A JIRA Cloud site the user's login can reach. */
export interface JiraResource {
  /** Atlassian's cloud id. */
  id: string;
  /** The site name, e.g. "acme" for https://acme.atlassian.net. */
  name: string;
  url: string;
}

export interface JiraProjectSummary {
  key: string;
  name: string;
  id: string;
  url: string;
}

export type JiraAccount = { loggedIn: false } | { loggedIn: true; instances: JiraResource[] };

/** How the browser's return from Atlassian ended; `disabled` when JIRA OAuth is off. */
export type JiraCallbackOutcome = OauthCallbackOutcome | { kind: 'disabled' };

export interface JiraServiceDeps {
  settings: JiraSettings;
  oauth: OauthStore;
  logger: Logger;
  /** The bridge permission `login` for service `jira`; everyone may when absent. */
  mayLogIn?: (userId: string) => Promise<boolean>;
  now?: () => number;
}

const disabled = (): ConnectionError =>
  new ConnectionError('HS_DISABLED_FEATURE', 'JIRA OAuth is disabled.');

const resourcesFailed = (): ConnectionError =>
  new ConnectionError('HS_UNKNOWN', 'Could not fetch accessible resources for JIRA user.');

/**
 * JIRA Cloud for users: the OAuth 2.0 (3LO) login, token refresh, and the sites and projects a
 * login can reach. JIRA Server/Data Center (OAuth 1.0a) is not supported.
 */
export class JiraService {
  private readonly now: () => number;
  private readonly resourceCache = new Map<string, { at: number; resources: JiraResource[] }>();
  // Atlassian rotates refresh tokens: two refreshes at once would spend the same one twice.
  private readonly refreshLock = new KeyedLock();

  private readonly flow: OauthFlow;

  constructor(private readonly deps: JiraServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.flow = new OauthFlow(deps.oauth, 'jira', deps.logger);
  }

  private get settings() {
    const jira = this.deps.settings;
    if (!jira.oauth) throw disabled();
    return { ...jira, oauth: jira.oauth };
  }

  private requireOauth(): void {
    if (!this.oauthEnabled) throw disabled();
  }

  /** Whether users can log in at all. */
  get oauthEnabled(): boolean {
    return this.deps.settings.oauth !== null;
  }

  async oauthUrl(userId: string): Promise<{ url: string }> {
    const { oauth, authUrl } = this.settings;
    const state = await this.flow.start(userId);
    // Atlassian's documented parameter order; URLSearchParams keeps insertion order.
    const params = new URLSearchParams([
      ['audience', 'api.atlassian.com'],
      ['client_id', oauth.clientId],
      ['scope', JIRA_SCOPES],
      ['redirect_uri', oauth.redirectUri],
      ['state', state],
      ['response_type', 'code'],
      ['prompt', 'consent'],
    ]);
    // URLSearchParams writes spaces as "+"; Atlassian's examples use %20.
    return { url: `${join(authUrl, 'authorize')}?${params.toString().replace(/\+/g, '%20')}` };
  }

  /** The browser's return from Atlassian: exchange the code and keep the token. */
  async handleOauthCallback(query: Record<string, unknown>): Promise<JiraCallbackOutcome> {
    if (!this.oauthEnabled) return { kind: 'disabled' };
    const outcome = await this.flow.complete<JiraToken>(
      { state: queryText(query, 'state'), code: queryText(query, 'code') },
      {
        exchange: (code) => {
          const { oauth } = this.settings;
          return this.requestToken({
            grant_type: 'authorization_code',
            client_id: oauth.clientId,
            client_secret: oauth.clientSecret,
            code,
            redirect_uri: oauth.redirectUri,
          });
        },
        ...(this.deps.mayLogIn ? { mayLogIn: this.deps.mayLogIn } : {}),
      },
    );
    if (outcome.kind === 'linked') this.resourceCache.delete(outcome.userId);
    return outcome;
  }

  async account(userId: string): Promise<JiraAccount> {
    this.requireOauth();
    const resources = await this.accessibleResources(userId);
    return resources ? { loggedIn: true, instances: resources } : { loggedIn: false };
  }

  async projects(userId: string, instanceName: string): Promise<JiraProjectSummary[]> {
    this.requireOauth();
    const resources = await this.accessibleResources(userId);
    if (!resources) throw new ConnectionError('HS_FORBIDDEN_USER', 'Not logged in');
    const resource = resources.find((r) => r.name === instanceName);
    if (!resource) {
      throw new ConnectionError(
        'HS_FORBIDDEN_USER',
        'Instance not known or not accessible to this user.',
      );
    }
    try {
      const projects: JiraProjectSummary[] = [];
      for (let n = 0, startAt = 0; n < MAX_PROJECT_PAGES; n++) {
        const query = new URLSearchParams({
          startAt: String(startAt),
          maxResults: String(PROJECT_PAGE_SIZE),
        });
        const answer = projectPageAnswer.parse(
          await this.api(userId, `${this.siteApi(resource.id)}/project/search?${query.toString()}`),
        );
        for (const p of answer.values) {
          projects.push({ key: p.key, name: p.name, id: p.id, url: projectUrl(resource, p.key) });
        }
        if (answer.isLast !== false || answer.values.length === 0) break;
        startAt += answer.values.length;
      }
      return projects;
    } catch (err) {
      this.deps.logger.warn({ userId, err: describe(err) }, 'JIRA project listing failed');
      throw new ConnectionError('HS_UNKNOWN', 'Could not fetch accessible projects for JIRA user.');
    }
  }

  /**
   * The sites the user's login reaches (cached briefly), or null when the user has no login.
   * Atlassian failures are ConnectionErrors (500 HS_UNKNOWN).
   */
  async accessibleResources(userId: string): Promise<JiraResource[] | null> {
    const cached = this.resourceCache.get(userId);
    if (cached && this.now() - cached.at < RESOURCE_CACHE_MS) return cached.resources;
    let token: JiraToken | null;
    try {
      token = await this.validToken(userId);
    } catch (err) {
      this.deps.logger.warn({ userId, err: describe(err) }, 'JIRA token refresh failed');
      throw resourcesFailed();
    }
    if (!token) return null;
    try {
      const answer = resourcesAnswer.parse(
        await fetchAtlassian(join(this.settings.apiUrl, 'oauth/token/accessible-resources'), {
          headers: { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' },
        }),
      );
      const resources = answer.map((r) => ({
        id: r.id,
        name: r.name,
        url: r.url.replace(/\/+$/, ''),
      }));
      this.resourceCache.set(userId, { at: this.now(), resources });
      return resources;
    } catch (err) {
      this.deps.logger.warn({ userId, err: describe(err) }, 'JIRA accessible resources failed');
      throw resourcesFailed();
    }
  }

  /** A project of a site by key, or null when the user cannot see it (or JIRA fails). */
  async project(
    userId: string,
    resource: JiraResource,
    key: string,
  ): Promise<{ id: string; key: string; name: string } | null> {
    try {
      const answer = projectAnswer.parse(
        await this.api(userId, `${this.siteApi(resource.id)}/project/${encodeURIComponent(key)}`),
      );
      return { id: answer.id, key: answer.key, name: answer.name };
    } catch (err) {
      this.deps.logger.info({ userId, key, err: describe(err) }, 'JIRA project lookup failed');
      return null;
    }
  }

  private siteApi(cloudId: string): string {
    return join(this.settings.apiUrl, `ex/jira/${encodeURIComponent(cloudId)}/rest/api/3`);
  }

  /** A GET of Atlassian's API as the user; throws when the user has no login. */
  private async api(userId: string, url: string): Promise<unknown> {
    const token = await this.validToken(userId);
    if (!token) throw new Error('the user has no JIRA login');
    return fetchAtlassian(url, {
      headers: { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' },
    });
  }

  /** The user's token, refreshed first when it is about to expire; null when there is none. */
  private async validToken(userId: string): Promise<JiraToken | null> {
    const token = await this.deps.oauth.token<JiraToken>('jira', userId);
    if (!token || token.expiresAt - this.now() > REFRESH_MARGIN_MS) return token;
    return this.refreshLock.run(userId, async () => {
      // Another request may have refreshed it while this one waited.
      const current = await this.deps.oauth.token<JiraToken>('jira', userId);
      if (!current || current.expiresAt - this.now() > REFRESH_MARGIN_MS) return current;
      if (!current.refreshToken) {
        await this.forget(userId);
        return null;
      }
      const { oauth } = this.settings;
      try {
        const fresh = await this.requestToken({
          grant_type: 'refresh_token',
          client_id: oauth.clientId,
          client_secret: oauth.clientSecret,
          refresh_token: current.refreshToken,
        });
        // Atlassian may or may not rotate the refresh token; keep the old one if it does not.
        const token = { ...fresh, refreshToken: fresh.refreshToken ?? current.refreshToken };
        await this.deps.oauth.saveToken('jira', userId, token);
        return token;
      } catch (err) {
        // A refused refresh token (revoked access, 90 days unused) will never work again: the
        // user is logged out so the integration manager offers a new login.
        if (err instanceof AtlassianError && err.status >= 400 && err.status < 500) {
          this.deps.logger.info({ userId }, 'JIRA refresh token refused; the user is logged out');
          await this.forget(userId);
          return null;
        }
        throw err;
      }
    });
  }

  private async forget(userId: string): Promise<void> {
    this.resourceCache.delete(userId);
    await this.deps.oauth.deleteToken('jira', userId);
  }

  private async requestToken(body: Record<string, string>): Promise<JiraToken> {
    const answer = tokenAnswer.parse(
      await fetchAtlassian(join(this.settings.authUrl, 'oauth/token'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token ?? null,
      expiresAt: this.now() + answer.expires_in * 1000,
      instance: new URL(this.settings.apiUrl).host,
    };
  }
}

/** The URL the API lists for a project, also what a connection's `url` looks like. */
export function projectUrl(resource: { url: string }, key: string): string {
  return `${resource.url.replace(/\/+$/, '')}/projects/${key}`;
}
