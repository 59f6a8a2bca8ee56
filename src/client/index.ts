/**
 * Typed clients for Switchboard's two APIs, imported as `switchboard/client` (docs/client.md):
 * openapi-fetch over the types generated from openapi/maubot.yaml and openapi/provisioning.yaml,
 * so a request or answer that does not fit the API does not compile.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type * as maubot from '../../generated/maubot';
import type * as provisioning from '../../generated/provisioning';

export type * as maubot from '../../generated/maubot';
export type * as provisioning from '../../generated/provisioning';

/** Where each API lives below the server's base URL. */
export const MAUBOT_API_PATH = '/_matrix/maubot/v1';
export const PROVISIONING_API_PATH = '/v1';

export type MaubotClient = Client<maubot.paths>;
export type ProvisioningClient = Client<provisioning.paths>;

export interface ServerOptions {
  /** Where Switchboard is reached, e.g. `http://127.0.0.1:29316` (with a proxy's path prefix). */
  baseUrl: string;
  /** The fetch to use; the global one by default. */
  fetch?: ClientOptions['fetch'];
}

function clientOptions(server: ServerOptions, apiPath: string, bearer?: string): ClientOptions {
  return {
    baseUrl: server.baseUrl.replace(/\/+$/, '') + apiPath,
    ...(bearer !== undefined ? { headers: { Authorization: `Bearer ${bearer}` } } : {}),
    ...(server.fetch ? { fetch: server.fetch } : {}),
  };
}

/**
 * The maubot Management API. With a `token` (from `POST /auth/login`) every request carries
 * it; without one only `/auth/login`, `/auth/ping` and `/features` answer.
 */
export function createMaubotClient(options: ServerOptions & { token?: string }): MaubotClient {
  return createClient<maubot.paths>(clientOptions(options, MAUBOT_API_PATH, options.token));
}

/** The provisioning API (hookshot's v1); every request carries the provisioning secret. */
export function createProvisioningClient(
  options: ServerOptions & { secret: string },
): ProvisioningClient {
  return createClient<provisioning.paths>(
    clientOptions(options, PROVISIONING_API_PATH, options.secret),
  );
}

/**
 * Uploads a plugin archive (.mbp) as maubot's web UI and `mbc` do: the zip itself is the body.
 * With `allowOverride` a plugin with the same id is replaced; without it that is 409
 * `plugin_exists`. The answer is 201 (new) or 200 (replaced) with the plugin.
 */
export function uploadPlugin(
  client: MaubotClient,
  archive: Blob | Uint8Array<ArrayBuffer>,
  options: { allowOverride?: boolean } = {},
) {
  return client.POST('/plugins/upload', {
    params: { query: options.allowOverride ? { allow_override: 'true' } : {} },
    body: archive instanceof Blob ? archive : new Blob([archive]),
    // Sent as it is: the default serializer would write JSON.
    bodySerializer: (body) => body,
    headers: { 'Content-Type': 'application/zip' },
  });
}
