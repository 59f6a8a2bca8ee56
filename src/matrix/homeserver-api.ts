// First: SDK modules bind its logger's methods when loaded, which must already lead to ours.
import './sdk-logger';
import { createHmac } from 'node:crypto';
import { ClientPrefix, MatrixHttpApi, Method, TypedEventEmitter } from 'matrix-js-sdk';
import type { HttpApiEventHandlerMap, HttpApiEvent } from 'matrix-js-sdk';
import { viaSdk } from './matrix-errors';

/** How long one request to a homeserver may take before it counts as unreachable. */
export const HOMESERVER_TIMEOUT_MS = 20_000;

export interface Whoami {
  userId: string;
  /** null when the homeserver does not say (appservice users, old servers). */
  deviceId: string | null;
}

/** A login or registration answer, passed on as the homeserver sent it. */
export type Credentials = Record<string, unknown> & {
  user_id: string;
  access_token: string;
  device_id: string;
};

export interface PasswordLogin {
  username: string;
  password: string;
  deviceId: string;
  deviceName: string;
}

export interface SharedSecretRegistration {
  username: string;
  password: string;
  /** Synapse user type; null sends none. */
  userType: string | null;
}

function httpApi(homeserver: string, accessToken?: string, prefix: string = ClientPrefix.V3) {
  return new MatrixHttpApi(new TypedEventEmitter<HttpApiEvent, HttpApiEventHandlerMap>(), {
    baseUrl: homeserver.replace(/\/+$/, ''),
    prefix,
    accessToken,
    onlyData: true,
    localTimeoutMs: HOMESERVER_TIMEOUT_MS,
  });
}

/**
 * Synapse's shared-secret registration MAC: hex HMAC-SHA1 over nonce, username, password,
 * "admin"/"notadmin" and the user type if any, NUL-separated.
 */
export function registrationMac(
  secret: string,
  nonce: string,
  registration: SharedSecretRegistration,
): string {
  const parts = [nonce, registration.username, registration.password, 'notadmin'];
  if (registration.userType !== null) parts.push(registration.userType);
  return createHmac('sha1', secret).update(parts.join('\u0000')).digest('hex');
}

/** One-off calls to a homeserver that need no running client. */
export const homeserverApi = {
  /** `GET /_matrix/client/versions`: the server is a Matrix homeserver and answers. */
  async versions(homeserver: string): Promise<string[]> {
    const body = await viaSdk(() =>
      httpApi(homeserver, undefined, '/_matrix/client').request<{ versions?: string[] }>(
        Method.Get,
        '/versions',
      ),
    );
    return body.versions ?? [];
  },

  async whoami(homeserver: string, accessToken: string): Promise<Whoami> {
    const body = await viaSdk(() =>
      httpApi(homeserver, accessToken).authedRequest<{ user_id: string; device_id?: string }>(
        Method.Get,
        '/account/whoami',
      ),
    );
    return { userId: body.user_id, deviceId: body.device_id ?? null };
  },

  async passwordLogin(homeserver: string, login: PasswordLogin): Promise<Credentials> {
    return viaSdk(() =>
      httpApi(homeserver).request<Credentials>(Method.Post, '/login', undefined, {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: login.username },
        password: login.password,
        device_id: login.deviceId,
        initial_device_display_name: login.deviceName,
      }),
    );
  },

  /** The login types the homeserver offers (`m.login.password`, `m.login.sso`, ...). */
  async loginFlows(homeserver: string): Promise<string[]> {
    const body = await viaSdk(() =>
      httpApi(homeserver).request<{ flows?: { type?: unknown }[] }>(Method.Get, '/login'),
    );
    return (body.flows ?? []).flatMap((f) => (typeof f.type === 'string' ? [f.type] : []));
  },

  /** Where a browser starts single sign-on, returning to `redirectUrl` with a login token. */
  ssoRedirectUrl(homeserver: string, redirectUrl: string): string {
    const base = homeserver.replace(/\/+$/, '');
    return `${base}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent(redirectUrl)}`;
  },

  async tokenLogin(
    homeserver: string,
    login: { token: string; deviceId: string; deviceName: string },
  ): Promise<Credentials> {
    return viaSdk(() =>
      httpApi(homeserver).request<Credentials>(Method.Post, '/login', undefined, {
        type: 'm.login.token',
        token: login.token,
        device_id: login.deviceId,
        initial_device_display_name: login.deviceName,
      }),
    );
  },

  /** Synapse's admin registration API; the nonce is fetched first, as it requires. */
  async registerWithSharedSecret(
    homeserver: string,
    secret: string,
    registration: SharedSecretRegistration,
  ): Promise<Credentials> {
    const api = httpApi(homeserver, undefined, '/_synapse/admin/v1');
    let nonce: string;
    try {
      nonce = (await viaSdk(() => api.request<{ nonce: string }>(Method.Get, '/register'))).nonce;
    } catch (err) {
      throw new RegistrationNonceError(err);
    }
    return viaSdk(() =>
      api.request<Credentials>(Method.Post, '/register', undefined, {
        nonce,
        username: registration.username,
        password: registration.password,
        admin: false,
        ...(registration.userType !== null ? { user_type: registration.userType } : {}),
        mac: registrationMac(secret, nonce, registration),
      }),
    );
  },
};

/** The homeserver did not hand out a registration nonce (no admin API, or down). */
export class RegistrationNonceError extends Error {
  override name = 'RegistrationNonceError';
  constructor(override readonly cause: unknown) {
    super(`could not get a registration nonce: ${String(cause)}`);
  }
}
