import { createVerify, generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyText, FakeGrants, FakeHttpServer } from './fake-http-server';

export interface FakeInstallation {
  id: number;
  account: string;
  accountType: 'User' | 'Organization';
  repositorySelection: 'all' | 'selected';
  repositories: { name: string; description: string | null }[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

/**
 * GitHub's REST API and OAuth endpoints for exactly the calls a GitHub App bridge makes,
 * answering in the shapes of GitHub's public documentation. One server plays both the API
 * host and the web host: tests set `apiUrl` and `webUrl` to its URL.
 */
export class FakeGithub extends FakeHttpServer {
  readonly appId = 4242;
  readonly clientId = 'Iv1.fakeclientid';
  readonly clientSecret = 'fake-client-secret';
  readonly privateKeyPem: string;
  private readonly publicKeyPem: string;
  /** Lifetime of access tokens in seconds (GitHub's is 8 hours). */
  expiresIn = 28_800;
  /** When set, `GET /app` answers this status (the App lookup fails). */
  appLookupStatus: number | null = null;
  readonly installations: FakeInstallation[] = [];
  /** Collaborator permission per `owner/repo/login`. */
  readonly permissions = new Map<string, 'admin' | 'write' | 'read' | 'none'>();
  readonly requests: RecordedRequest[] = [];
  /** Answer GET /user with this status instead (e.g. 500). */
  userStatus: number | null = null;

  private readonly grants = new FakeGrants();

  constructor() {
    super();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** What the user's consent on GitHub's page produces: a code for the redirect. */
  authorize(login: string): string {
    return this.grants.authorize(login);
  }

  /** Every access and refresh token handed out so far. */
  issuedTokens(): string[] {
    return this.grants.issued();
  }

  /** Makes every access token expire now (refresh tokens stay valid). */
  expireAccessTokens(): void {
    for (const t of this.grants.accessTokens.values()) t.expiresAt = 0;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const text = await bodyText(req);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      authorization: req.headers.authorization,
    });
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const notFound = (): void =>
      json(404, {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest',
        status: '404',
      });
    const path = url.pathname;
    const page = Number(url.searchParams.get('page') ?? 1);
    const perPage = Number(url.searchParams.get('per_page') ?? 30);
    const slice = <T>(items: T[]): T[] => items.slice((page - 1) * perPage, page * perPage);

    if (req.method === 'POST' && path === '/login/oauth/access_token') {
      const params: Record<string, unknown> = text
        ? (JSON.parse(text) as Record<string, unknown>)
        : {};
      for (const [k, v] of url.searchParams) params[k] = v;
      if (params.client_id !== this.clientId || params.client_secret !== this.clientSecret) {
        json(200, {
          error: 'incorrect_client_credentials',
          error_description: 'bad client',
          error_uri: '',
        });
        return;
      }
      let login: string | undefined;
      if (params.grant_type === 'refresh_token') {
        login = this.grants.refreshTokens.get(String(params.refresh_token));
        this.grants.refreshTokens.delete(String(params.refresh_token));
      } else {
        login = this.grants.codes.get(String(params.code));
        this.grants.codes.delete(String(params.code));
      }
      if (login === undefined) {
        json(200, {
          error:
            params.grant_type === 'refresh_token' ? 'bad_refresh_token' : 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
          error_uri: 'https://docs.github.com/apps',
        });
        return;
      }
      const { access, refresh } = this.grants.issue(login, this.expiresIn, {
        access: 'ghu_',
        refresh: 'ghr_',
      });
      json(200, {
        access_token: access,
        expires_in: this.expiresIn,
        refresh_token: refresh,
        refresh_token_expires_in: 15_811_200,
        scope: '',
        token_type: 'bearer',
      });
      return;
    }

    // App (JWT) routes.
    if (path === '/app' || /^\/(users|orgs)\/[^/]+\/installation$/.test(path)) {
      if (!this.validJwt(req.headers.authorization)) {
        json(401, { message: 'A JSON web token could not be decoded' });
        return;
      }
      if (path === '/app') {
        if (this.appLookupStatus !== null) {
          json(this.appLookupStatus, { message: 'Server Error' });
          return;
        }
        json(200, {
          id: this.appId,
          slug: 'switchboard-test',
          name: 'Switchboard test',
          html_url: `${this.url}/apps/switchboard-test`,
        });
        return;
      }
      const [, kind, name] = path.split('/');
      const install = this.installations.find(
        (i) =>
          i.account.toLowerCase() === decodeURIComponent(name ?? '').toLowerCase() &&
          (kind === 'users' ? i.accountType === 'User' : i.accountType === 'Organization'),
      );
      if (!install) return notFound();
      json(200, this.installationBody(install));
      return;
    }

    // User-token routes.
    const user = this.userOf(req.headers.authorization);
    if (!user) {
      json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    if (req.method === 'GET' && path === '/user') {
      if (this.userStatus !== null) {
        json(this.userStatus, { message: 'Server Error' });
        return;
      }
      json(200, { login: user, id: 1000, avatar_url: `${this.url}/avatars/${user}`, type: 'User' });
      return;
    }
    if (req.method === 'GET' && path === '/user/installations') {
      const all = this.installations;
      json(200, {
        total_count: all.length,
        installations: slice(all).map((i) => this.installationBody(i)),
      });
      return;
    }
    const repos = /^\/user\/installations\/(\d+)\/repositories$/.exec(path);
    if (req.method === 'GET' && repos) {
      const install = this.installations.find((i) => i.id === Number(repos[1]));
      if (!install) return notFound();
      json(200, {
        total_count: install.repositories.length,
        repository_selection: install.repositorySelection,
        repositories: slice(install.repositories).map((r, n) => ({
          id: install.id * 1000 + n,
          name: r.name,
          full_name: `${install.account}/${r.name}`,
          description: r.description,
          private: false,
          html_url: `${this.url}/${install.account}/${r.name}`,
          owner: {
            login: install.account,
            avatar_url: `${this.url}/avatars/${install.account}`,
            type: install.accountType,
          },
        })),
      });
      return;
    }
    const permission = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(path);
    if (req.method === 'GET' && permission) {
      const [, owner, repo, login] = permission.map((p) => decodeURIComponent(p));
      const level = this.permissions.get(`${owner}/${repo}/${login}`);
      if (level === undefined) return notFound();
      json(200, { permission: level, role_name: level, user: { login } });
      return;
    }
    notFound();
  }

  private installationBody(i: FakeInstallation): Record<string, unknown> {
    return {
      id: i.id,
      app_id: this.appId,
      target_type: i.accountType,
      repository_selection: i.repositorySelection,
      account: {
        login: i.account,
        type: i.accountType,
        avatar_url: `${this.url}/avatars/${i.account}`,
      },
    };
  }

  private userOf(authorization: string | undefined): string | undefined {
    const token = /^(?:token|bearer) (.+)$/i.exec(authorization ?? '')?.[1];
    return this.grants.userOf(token);
  }

  /** An RS256 JWT signed with the App's key whose issuer is the App id. */
  private validJwt(authorization: string | undefined): boolean {
    const jwt = /^bearer (.+)$/i.exec(authorization ?? '')?.[1];
    const [header, payload, signature] = jwt?.split('.') ?? [];
    if (!header || !payload || !signature) return false;
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(this.publicKeyPem, Buffer.from(signature, 'base64url'))) return false;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      iss?: unknown;
    };
    return String(claims.iss) === String(this.appId);
  }
}
