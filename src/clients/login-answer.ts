import type { Credentials } from '../matrix/homeserver-api';

type JsonObject = Record<string, unknown>;

const DISCOVERY_KEYS = ['m.homeserver', 'm.identity_server', 'm.integrations'] as const;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One discovery entry as maubot's Matrix library reads it: it only knows `base_url`. */
function discoveryEntry(value: unknown, empty: JsonObject): JsonObject {
  if (!isObject(value) || !('base_url' in value)) return empty;
  const { base_url: baseUrl, ...rest } = value;
  return baseUrl === null || baseUrl === undefined ? rest : { base_url: baseUrl, ...rest };
}

/**
 * `well_known` as maubot answers it: always the three discovery entries, empty ones when the
 * homeserver sent none (registration never does). Other keys survive only beside a known one.
 */
function wellKnown(value: unknown): JsonObject {
  const given = isObject(value) ? value : {};
  const {
    'm.homeserver': homeserver,
    'm.identity_server': identityServer,
    'm.integrations': integrations,
    ...rest
  } = given;
  return {
    'm.homeserver': discoveryEntry(homeserver, {}),
    'm.identity_server': discoveryEntry(identityServer, {}),
    'm.integrations': discoveryEntry(integrations, { managers: [] }),
    ...(DISCOVERY_KEYS.some((key) => key in given) ? rest : {}),
  };
}

/**
 * A homeserver's login or registration answer as maubot passes it on (it reads the answer into
 * its login-response type and writes it back): `user_id`, `device_id`, `access_token`,
 * `well_known`, then every other key the homeserver sent.
 */
export function loginAnswer(credentials: Credentials): Credentials {
  const {
    user_id: userId,
    device_id: deviceId,
    access_token: accessToken,
    well_known: discovery,
    ...rest
  } = credentials;
  return {
    user_id: userId,
    device_id: deviceId,
    access_token: accessToken,
    well_known: wellKnown(discovery),
    ...rest,
  };
}
