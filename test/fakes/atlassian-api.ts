import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyText, FakeGrants, FakeHttpServer } from './fake-http-server';

export interface FakeProject {
  id: string;
  key: string;
  name: string;
}

export interface FakeSite {
  /** The cloud id. */
  id: string;
  name: string;
  url: string;
  projects: FakeProject[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/**
 * Atlassian's authorisation server (auth.atlassian.com) and API gateway (api.atlassian.com) for
 * exactly the calls JIRA Cloud logins make, answering in the documented shapes. One server
 * plays both hosts: tests set `authUrl` and `apiUrl` to its URL.
 */
export class FakeAtlassian extends FakeHttpServer {
  readonly clientId = 'jira-client-id';
  readonly clientSecret = 'jira-client-secret';
  redirectUri = 'http://127.0.0.1/jira/oauth';
  /** Lifetime of issued access tokens in seconds. */
  expiresIn = 3600;
  /** Sites per user key (whoever authorised the code). */
  readonly sites = new Map<string, FakeSite[]>();
  readonly requests: RecordedRequest[] = [];
  /** Answer accessible-resources with this status instead (e.g. 500). */
  resourcesStatus: number | null = null;
  /** Answer project search with this status instead. */
  projectSearchStatus: number | null = null;
  pageSize = 2;

  private readonly grants = new FakeGrants();

  /** What the user's consent on Atlassian's page produces: a code for the redirect. */
  authorize(userKey: string): string {
    return this.grants.authorize(userKey);
  }

  /** Every access and refresh token handed out so far. */
  issuedTokens(): string[] {
    return this.grants.issued();
  }

  revokeRefreshTokens(): void {
    this.grants.refreshTokens.clear();
  }

  private issue(userKey: string): Record<string, unknown> {
    const { access, refresh } = this.grants.issue(userKey, this.expiresIn);
    return {
      access_token: access,
      refresh_token: refresh,
      expires_in: this.expiresIn,
      scope: 'read:jira-work write:jira-work read:jira-user read:me read:account offline_access',
      token_type: 'Bearer',
    };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await bodyText(req);
    const body: unknown = text ? JSON.parse(text) : undefined;
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      body,
    });
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };

    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const b = (body ?? {}) as Record<string, unknown>;
      if (b.client_id !== this.clientId || b.client_secret !== this.clientSecret) {
        return json(401, { error: 'access_denied', error_description: 'Unauthorized' });
      }
      if (b.grant_type === 'authorization_code') {
        const userKey = typeof b.code === 'string' ? this.grants.codes.get(b.code) : undefined;
        if (!userKey || b.redirect_uri !== this.redirectUri) {
          return json(403, {
            error: 'invalid_grant',
            error_description: 'Invalid authorization code',
          });
        }
        this.grants.codes.delete(b.code as string);
        return json(200, this.issue(userKey));
      }
      if (b.grant_type === 'refresh_token') {
        const userKey =
          typeof b.refresh_token === 'string'
            ? this.grants.refreshTokens.get(b.refresh_token)
            : undefined;
        if (!userKey) {
          return json(403, {
            error: 'invalid_grant',
            error_description: 'Unknown or invalid refresh token.',
          });
        }
        // Atlassian rotates refresh tokens: the old one is spent.
        this.grants.refreshTokens.delete(b.refresh_token as string);
        return json(200, this.issue(userKey));
      }
      return json(400, { error: 'unsupported_grant_type' });
    }

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const userKey = this.grants.userOf(bearer);
    if (userKey === undefined) return json(401, { code: 401, message: 'Unauthorized' });
    const sites = this.sites.get(userKey) ?? [];

    if (req.method === 'GET' && url.pathname === '/oauth/token/accessible-resources') {
      if (this.resourcesStatus !== null) return json(this.resourcesStatus, { message: 'failed' });
      return json(
        200,
        sites.map((s) => ({
          id: s.id,
          url: s.url,
          name: s.name,
          scopes: ['read:jira-work', 'write:jira-work'],
          avatarUrl:
            'https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png',
        })),
      );
    }

    const site = /^\/ex\/jira\/([^/]+)\/rest\/api\/3\/(.+)$/.exec(url.pathname);
    const cloud = site ? sites.find((s) => s.id === decodeURIComponent(site[1]!)) : undefined;
    if (req.method === 'GET' && site && cloud) {
      const rest = site[2]!;
      const self = (p: FakeProject) => ({
        self: `${this.url}/ex/jira/${cloud.id}/rest/api/3/project/${p.id}`,
        id: p.id,
        key: p.key,
        name: p.name,
        projectTypeKey: 'software',
        simplified: false,
        style: 'classic',
        isPrivate: false,
      });
      if (rest === 'project/search') {
        if (this.projectSearchStatus !== null) {
          return json(this.projectSearchStatus, { errorMessages: ['failed'], errors: {} });
        }
        const startAt = Number(url.searchParams.get('startAt') ?? '0');
        const maxResults = Math.min(
          Number(url.searchParams.get('maxResults') ?? '50'),
          this.pageSize,
        );
        const values = cloud.projects.slice(startAt, startAt + maxResults);
        const isLast = startAt + values.length >= cloud.projects.length;
        return json(200, {
          self: `${this.url}${url.pathname}${url.search}`,
          maxResults,
          startAt,
          total: cloud.projects.length,
          isLast,
          values: values.map(self),
        });
      }
      const one = /^project\/([^/]+)$/.exec(rest);
      if (one) {
        const key = decodeURIComponent(one[1]!);
        const project = cloud.projects.find((p) => p.key === key || p.id === key);
        if (!project) {
          return json(404, {
            errorMessages: [`No project could be found with key '${key}'.`],
            errors: {},
          });
        }
        return json(200, self(project));
      }
    }
    json(404, { errorMessages: ['Not found'], errors: {} });
  }
}
