import { randomInt } from 'node:crypto';
import type { Config } from '../config/schema';
import type { Logger } from '../logging/logger';
import { homeserverApi, type Credentials } from '../matrix/homeserver-api';
import { HomeserverError } from '../matrix/matrix-errors';
import {
  AccountRefusedError,
  AuthRequestNotJsonError,
  AuthServerNotFoundError,
  ClientExistsError,
  CredentialsMissingError,
  RegistrationSecretMissingError,
  RegistrationSsoError,
  SsoNotSupportedError,
  SsoSessionNotFoundError,
} from './client-errors';
import type { ClientService, ClientView } from './client-service';
import { loginAnswer } from './login-answer';

export interface AuthRequest {
  username?: unknown;
  password?: unknown;
  device_name?: unknown;
  user_type?: unknown;
}

export interface AuthFlags {
  updateClient: boolean;
  sso: boolean;
}

/** A login's or registration's result: the credentials only, or the client they made or updated. */
export type AuthOutcome =
  | { kind: 'credentials'; body: Credentials }
  | { kind: 'ssoStarted'; body: { sso_url: string; id: string } }
  | { kind: 'clientCreated'; body: ClientView }
  | { kind: 'clientUpdated'; body: ClientView };

/** What became of the SSO return page's visit; the API layer words it for the person. */
export type SsoCompletion =
  'unknownSession' | 'cancelled' | 'alreadyReceived' | 'missingToken' | 'received';

interface SsoSession {
  server: string;
  homeserver: string;
  deviceName: string;
  updateClient: boolean;
  state: 'waiting' | 'received' | 'cancelled';
  resolve(token: string | null): void;
  token: Promise<string | null>;
  expiry: NodeJS.Timeout;
}

const DEVICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SSO_ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** An SSO login not finished in this time is abandoned. */
export const SSO_SESSION_MS = 15 * 60_000;

function randomString(chars: string, length: number): string {
  return Array.from({ length }, () => chars[randomInt(chars.length)]).join('');
}

/** Logging in to and registering bot accounts on configured homeservers (maubot's client auth). */
export class ClientAuthService {
  private readonly ssoSessions = new Map<string, SsoSession>();

  constructor(
    private readonly config: Config,
    private readonly clients: ClientService,
    private readonly logger: Logger,
  ) {}

  servers(): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.config.homeservers).map(([name, server]) => [name, server.url]),
    );
  }

  /** Synapse shared-secret registration (maubot's checks, in its order). */
  async register(
    name: string,
    request: AuthRequest | null,
    flags: AuthFlags,
  ): Promise<AuthOutcome> {
    const server = this.server(name);
    if (request === null) throw new AuthRequestNotJsonError();
    const { username, password } = this.credentials(request, flags.sso);
    if (flags.sso) throw new RegistrationSsoError(name);
    if (!server.secret) throw new RegistrationSecretMissingError(name);
    const userType = request.user_type === undefined ? 'bot' : request.user_type;
    let credentials: Credentials;
    try {
      credentials = await homeserverApi.registerWithSharedSecret(server.url, server.secret, {
        username: username!,
        password: password!,
        userType: typeof userType === 'string' ? userType : null,
      });
    } catch (err) {
      throw refused('register', err);
    }
    this.logger.info(
      { server: name, user: credentials.user_id },
      `registered the bot account ${credentials.user_id} on ${name}`,
    );
    return this.answer(server.url, credentials, flags.updateClient);
  }

  async login(name: string, request: AuthRequest | null, flags: AuthFlags): Promise<AuthOutcome> {
    const server = this.server(name);
    if (request === null) throw new AuthRequestNotJsonError();
    const { username, password } = this.credentials(request, flags.sso);
    const deviceName = typeof request.device_name === 'string' ? request.device_name : 'Maubot';
    if (flags.sso) return this.startSso(name, server.url, deviceName, flags.updateClient);
    let credentials: Credentials;
    try {
      credentials = await homeserverApi.passwordLogin(server.url, {
        username: username!,
        password: password!,
        deviceId: newDeviceId(),
        deviceName,
      });
    } catch (err) {
      throw refused('login', err);
    }
    return this.answer(server.url, credentials, flags.updateClient);
  }

  /** Long-polls until the browser comes back from SSO, then logs in with its token. */
  async waitForSso(name: string, id: string, abort: AbortSignal): Promise<AuthOutcome> {
    const session = this.ssoSessions.get(id);
    if (!session || session.server !== name) throw new SsoSessionNotFoundError(id);
    const onAbort = () => {
      if (session.state === 'waiting') session.state = 'cancelled';
      session.resolve(null);
    };
    abort.addEventListener('abort', onAbort, { once: true });
    const token = await session.token.finally(() => abort.removeEventListener('abort', onAbort));
    if (token === null) throw new SsoSessionNotFoundError(id);
    // The session stays until it expires, so the return page can say the token arrived.
    let credentials: Credentials;
    try {
      credentials = await homeserverApi.tokenLogin(session.homeserver, {
        token,
        deviceId: newDeviceId(),
        deviceName: session.deviceName,
      });
    } catch (err) {
      throw refused('login', err);
    }
    return this.answer(session.homeserver, credentials, session.updateClient);
  }

  /** The page the homeserver sends the browser to after SSO. */
  completeSso(id: string, loginToken: string | undefined): SsoCompletion {
    const session = this.ssoSessions.get(id);
    if (!session) return 'unknownSession';
    if (session.state === 'cancelled') return 'cancelled';
    if (session.state === 'received') return 'alreadyReceived';
    if (!loginToken) return 'missingToken';
    session.state = 'received';
    session.resolve(loginToken);
    return 'received';
  }

  close(): void {
    for (const id of [...this.ssoSessions.keys()]) this.endSso(id);
  }

  private async startSso(
    name: string,
    homeserver: string,
    deviceName: string,
    updateClient: boolean,
  ): Promise<AuthOutcome> {
    let flows: string[];
    try {
      flows = await homeserverApi.loginFlows(homeserver);
    } catch (err) {
      throw refused('login', err);
    }
    if (!flows.includes('m.login.sso')) throw new SsoNotSupportedError(name);
    const id = randomString(SSO_ID_CHARS, 16);
    let resolve!: (token: string | null) => void;
    const token = new Promise<string | null>((r) => (resolve = r));
    const expiry = setTimeout(() => this.endSso(id), SSO_SESSION_MS);
    expiry.unref();
    this.ssoSessions.set(id, {
      server: name,
      homeserver,
      deviceName,
      updateClient,
      state: 'waiting',
      resolve,
      token,
      expiry,
    });
    const returnUrl = `${this.config.server.publicUrl.replace(/\/+$/, '')}/_matrix/maubot/v1/client/auth_external_sso/complete/${id}`;
    return {
      kind: 'ssoStarted',
      body: { sso_url: homeserverApi.ssoRedirectUrl(homeserver, returnUrl), id },
    };
  }

  private endSso(id: string): void {
    const session = this.ssoSessions.get(id);
    if (!session) return;
    clearTimeout(session.expiry);
    session.resolve(null);
    this.ssoSessions.delete(id);
  }

  /** Credentials as maubot answers them, or stored as a client: created or updated. */
  private async answer(
    homeserver: string,
    credentials: Credentials,
    updateClient: boolean,
  ): Promise<AuthOutcome> {
    if (!updateClient) return { kind: 'credentials', body: loginAnswer(credentials) };
    const details = {
      homeserver,
      access_token: credentials.access_token,
      device_id: credentials.device_id,
    };
    if (!(await this.clients.exists(credentials.user_id))) {
      try {
        return {
          kind: 'clientCreated',
          body: await this.clients.create(details, credentials.user_id),
        };
      } catch (err) {
        if (!(err instanceof ClientExistsError)) throw err;
      }
    }
    return { kind: 'clientUpdated', body: await this.clients.update(credentials.user_id, details) };
  }

  private server(name: string): { url: string; secret: string | null } {
    const server = Object.hasOwn(this.config.homeservers, name)
      ? this.config.homeservers[name]
      : undefined;
    if (!server) throw new AuthServerNotFoundError(name);
    return server;
  }

  private credentials(
    request: AuthRequest,
    sso: boolean,
  ): { username?: string; password?: string } {
    const { username, password } = request;
    if (typeof username === 'string' && typeof password === 'string') {
      return { username, password };
    }
    if (!sso) throw new CredentialsMissingError();
    return {};
  }
}

/** maubot's device ids for logins it makes: `maubot_` and 8 random capitals or digits. */
function newDeviceId(): string {
  return `maubot_${randomString(DEVICE_CHARS, 8)}`;
}

function refused(during: 'login' | 'register', err: unknown): unknown {
  if (err instanceof HomeserverError) {
    return new AccountRefusedError(during, err.status, err.errcode, err.message);
  }
  return err;
}
