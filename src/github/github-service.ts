import { readFileSync } from 'node:fs';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import type { GithubSettings } from '../config/schema';
import { ConnectionError } from '../bridge/connection-errors';
import type { Logger } from '../logging/logger';
import type { OauthStore } from '../oauth/oauth-store';
import { GithubLogin, type GithubCallbackOutcome } from './github-login';
import { messageOf, statusOf, stripSlash, timedFetch } from './github-requests';

export type { GithubCallbackOutcome };

export interface GithubOauthUrls {
  user_url: string;
  org_url: string;
}

export interface GithubAccount {
  loggedIn: boolean;
  username?: string;
  organisations?: { name: string; avatarUrl: string }[];
}

export interface GithubRepositoryItem {
  name: string;
  owner: string;
  fullName: string;
  description: string | null;
  avatarUrl: string;
}

export interface GithubRepositoryPage {
  page: number;
  repositories: GithubRepositoryItem[];
  changeSelectionUrl?: string;
}

export interface GithubInstallation {
  id: number;
  repositorySelection: string;
}

export interface GithubServiceDeps {
  settings: GithubSettings;
  oauth: OauthStore;
  logger: Logger;
  now?: () => number;
}

/**
 * GitHub for the provisioning API: the App (JWT) for installation lookups, users' OAuth tokens
 * for what they may see. Every request goes to `apiUrl`; OAuth pages and links use `webUrl`.
 */
export class GithubService {
  private privateKey: string | null = null;
  private appClient: Octokit | null = null;
  private appHtmlUrl: string | null = null;

  private readonly login: GithubLogin;

  constructor(private readonly deps: GithubServiceDeps) {
    this.login = new GithubLogin(deps);
  }

  private get config(): GithubSettings {
    return this.deps.settings;
  }

  private get oauthConfig(): NonNullable<GithubSettings['oauth']> {
    const oauth = this.config.oauth;
    if (!oauth) {
      throw new ConnectionError(
        'HS_UNSUPPORTED_OPERATION',
        'GitHub is not configured to support OAuth',
      );
    }
    return oauth;
  }

  private get apiUrl(): string {
    return stripSlash(this.config.apiUrl);
  }

  private get webUrl(): string {
    return stripSlash(this.config.webUrl);
  }

  private octokitOptions() {
    return {
      baseUrl: this.apiUrl,
      // Every request gets its own time limit, so a GitHub that never answers cannot hang a call.
      request: { fetch: timedFetch },
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (msg: string) => this.deps.logger.warn({ github: msg }, 'GitHub client warning'),
        error: (msg: string) => this.deps.logger.warn({ github: msg }, 'GitHub client error'),
      },
    };
  }

  /** The App's client (JWT auth); the key file is read on first use only. */
  private app(): Octokit {
    if (!this.appClient) {
      this.privateKey ??= readFileSync(this.config.privateKeyFile, 'utf8');
      this.appClient = new Octokit({
        ...this.octokitOptions(),
        authStrategy: createAppAuth,
        auth: { appId: this.config.appId, privateKey: this.privateKey },
      });
    }
    return this.appClient;
  }

  userClient(token: string): Octokit {
    return new Octokit({ ...this.octokitOptions(), auth: token });
  }

  /** The App's page (`GET /app` html_url), cached: it changes only when the App is renamed. */
  async appPage(): Promise<string> {
    if (this.appHtmlUrl === null) {
      const { data } = await this.app().request('GET /app');
      if (!data?.html_url) throw new Error('GET /app answered without html_url');
      this.appHtmlUrl = data.html_url;
    }
    return this.appHtmlUrl;
  }

  /**
   * The login link, and the App's install link carrying a state of its own: Dimension offers
   * only the install link, so its callback must log the user in too. When the App cannot be
   * looked up, the install link is the login link (logged), so the user can still log in.
   */
  async oauthUrls(userId: string): Promise<GithubOauthUrls> {
    const oauth = this.oauthConfig;
    const params = new URLSearchParams({
      redirect_uri: oauth.redirectUri,
      client_id: oauth.clientId,
      state: await this.login.start(userId),
    });
    const userUrl = `${this.webUrl}/login/oauth/authorize?${params.toString()}`;
    let appPage: string;
    try {
      appPage = await this.appPage();
    } catch (err) {
      this.deps.logger.warn(
        { err: messageOf(err) },
        'Could not look up the GitHub App; its install link is the login link for now',
      );
      return { user_url: userUrl, org_url: userUrl };
    }
    const installState = await this.login.start(userId);
    return {
      user_url: userUrl,
      org_url: `${appPage}/installations/new?${new URLSearchParams({ state: installState }).toString()}`,
    };
  }

  /** The callback GitHub sends the browser to, after a login or an App installation. */
  handleOauthCallback(query: Record<string, unknown>): Promise<GithubCallbackOutcome> {
    return this.login.callback(query);
  }

  /** The user's access token, refreshed when needed; null without a usable login. */
  userToken(userId: string): Promise<string | null> {
    return this.login.userToken(userId);
  }

  /** The login of the token's user; a failure (a revoked token) asks the user to log in again. */
  async userLogin(token: string): Promise<string> {
    try {
      const { data } = await this.userClient(token).rest.users.getAuthenticated();
      return data.login;
    } catch (err) {
      this.deps.logger.info({ status: statusOf(err) }, 'GitHub GET /user failed');
      throw new ConnectionError(
        'HS_ADDITIONAL_ACTION_REQUIRED',
        'Could not fetch the GitHub user; log in to GitHub again',
      );
    }
  }

  /** The App's installation on an account, or null where it is not installed. */
  async installation(owner: string, isUser: boolean): Promise<GithubInstallation | null> {
    try {
      const { data } = isUser
        ? await this.app().rest.apps.getUserInstallation({ username: owner })
        : await this.app().rest.apps.getOrgInstallation({ org: owner });
      return { id: data.id, repositorySelection: data.repository_selection };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async account(userId: string, page: number, perPage: number): Promise<GithubAccount> {
    const token = await this.userToken(userId);
    if (token === null) return { loggedIn: false };
    const client = this.userClient(token);
    let organisations: { name: string; avatarUrl: string }[];
    try {
      const { data } = await client.rest.apps.listInstallationsForAuthenticatedUser({
        page,
        per_page: perPage,
      });
      organisations = [];
      for (const install of data.installations) {
        const account = install.account;
        if (!account) continue;
        const name =
          ('login' in account ? account.login : undefined) ??
          ('name' in account ? account.name : undefined) ??
          'No name';
        organisations.push({ name, avatarUrl: account.avatar_url });
      }
    } catch (err) {
      this.deps.logger.info({ status: statusOf(err) }, 'GitHub installations listing failed');
      throw new ConnectionError(
        'HS_ADDITIONAL_ACTION_REQUIRED',
        'Could not fetch orgs for GitHub user',
      );
    }
    return { loggedIn: true, username: await this.userLogin(token), organisations };
  }

  async orgRepositories(
    userId: string,
    org: string,
    page: number,
    perPage: number,
  ): Promise<GithubRepositoryPage> {
    const failure = 'Could not fetch accessible repos for GitHub org';
    const token = await this.requireToken(userId);
    const login = await this.userLoginOr(token, failure);
    const isUser = login === org;
    try {
      const install = await this.installation(org, isUser);
      if (!install) throw new Error(`the App is not installed on ${org}`);
      const listing = await this.installationRepositories(token, install.id, page, perPage);
      return {
        page,
        repositories: listing.repositories,
        ...(install.repositorySelection === 'selected'
          ? { changeSelectionUrl: this.selectionUrl(isUser ? null : org, install.id) }
          : {}),
      };
    } catch (err) {
      this.deps.logger.info({ err: messageOf(err) }, 'GitHub org repository listing failed');
      throw new ConnectionError('HS_ADDITIONAL_ACTION_REQUIRED', failure);
    }
  }

  async userRepositories(
    userId: string,
    page: number,
    perPage: number,
  ): Promise<GithubRepositoryPage> {
    const failure = 'Could not fetch accessible repos for GitHub user';
    const token = await this.requireToken(userId);
    const login = await this.userLoginOr(token, failure);
    try {
      const install = await this.installation(login, true);
      if (!install) throw new Error(`the App is not installed on ${login}`);
      const listing = await this.installationRepositories(token, install.id, page, perPage);
      return {
        page,
        repositories: listing.repositories,
        ...(listing.selection === 'selected'
          ? { changeSelectionUrl: this.selectionUrl(null, install.id) }
          : {}),
      };
    } catch (err) {
      this.deps.logger.info({ err: messageOf(err) }, 'GitHub user repository listing failed');
      throw new ConnectionError('HS_ADDITIONAL_ACTION_REQUIRED', failure);
    }
  }

  private async requireToken(userId: string): Promise<string> {
    const token = await this.userToken(userId);
    if (token === null) throw new ConnectionError('HS_FORBIDDEN_USER', 'Not logged in');
    return token;
  }

  private async userLoginOr(token: string, failure: string): Promise<string> {
    try {
      return await this.userLogin(token);
    } catch {
      throw new ConnectionError('HS_ADDITIONAL_ACTION_REQUIRED', failure);
    }
  }

  private async installationRepositories(
    token: string,
    installationId: number,
    page: number,
    perPage: number,
  ): Promise<{ repositories: GithubRepositoryItem[]; selection: string | undefined }> {
    const { data } = await this.userClient(
      token,
    ).rest.apps.listInstallationReposForAuthenticatedUser({
      installation_id: installationId,
      page,
      per_page: perPage,
    });
    return {
      selection: data.repository_selection,
      repositories: data.repositories.map((r) => ({
        name: r.name,
        owner: r.owner.login,
        fullName: r.full_name,
        description: r.description,
        avatarUrl: r.owner.avatar_url,
      })),
    };
  }

  /** Where the repository selection of an installation is changed (on the web host). */
  private selectionUrl(org: string | null, installationId: number): string {
    return org === null
      ? `${this.webUrl}/settings/installations/${installationId}`
      : `${this.webUrl}/organizations/${encodeURIComponent(org)}/settings/installations/${installationId}`;
  }
}
