import { ApiErrorBase } from '../../http/api-error';

/** Error codes of the maubot Management API, with maubot's status and message for each. */
export const MAUBOT_ERRORS = {
  body_not_json: [400, 'Request body is not JSON'],
  invalid_request: [400, 'Request does not match the API'],
  plugin_type_required: [400, 'Plugin type is required when creating plugin instances'],
  primary_user_required: [400, 'Primary user is required when creating plugin instances'],
  bad_client_access_token: [400, 'Invalid access token'],
  bad_client_access_details: [400, 'Invalid homeserver or access token'],
  bad_client_connection_details: [400, 'Could not connect to homeserver'],
  mxid_mismatch: [
    400,
    "The Matrix user ID of the client and the user ID of the access token don't match",
  ],
  proxy_path_invalid: [400, 'Only Matrix API paths (starting with _matrix/) can be proxied'],
  pid_mismatch: [400, 'The ID in the path does not match the ID of the uploaded plugin'],
  username_or_password_missing: [400, 'Username or password missing'],
  query_missing: [400, 'Query missing'],
  plugin_invalid: [400, 'Invalid plugin'],
  unsupported_plugin_loader: [400, 'Existing plugin with same ID uses unsupported plugin loader'],
  registration_no_sso: [400, 'The register operation is only for registering with a password'],
  invalid_auth: [401, 'Invalid username or password'],
  auth_token_missing: [401, 'Authorization token missing'],
  auth_token_invalid: [401, 'Invalid authorization token'],
  sso_not_supported: [403, 'That server does not seem to support single sign-on'],
  plugin_not_found: [404, 'Plugin not found'],
  client_not_found: [404, 'Client not found'],
  primary_user_not_found: [404, 'Client for given primary user not found'],
  instance_not_found: [404, 'Plugin instance not found'],
  plugin_type_not_found: [404, 'Given plugin type not found'],
  resource_not_found: [404, 'Resource not found'],
  server_not_found: [404, 'Registration target server not found'],
  registration_secret_not_found: [
    404,
    'Config does not have a registration secret for that server',
  ],
  plugin_has_no_database: [200, 'Given plugin does not have a database'],
  table_not_found: [200, 'Given table not found in plugin database'],
  sql_error: [400, 'SQL error'],
  method_not_allowed: [405, 'Method not allowed'],
  instance_exists: [409, 'There is already an instance with that ID'],
  user_exists: [409, 'There is already a client with the user ID of that token'],
  plugin_exists: [409, 'A plugin with the same ID as the uploaded plugin already exists'],
  client_has_keys: [409, 'Client already has cross-signing keys'],
  plugin_in_use: [412, 'Plugin instances of this type still exist'],
  client_in_use: [412, 'Plugin instances with this client as their primary user still exist'],
  unhandled_http_413: [413, 'Request body is too large'],
  unsupported_media_type: [415, 'Unsupported content type'],
  login_rate_limited: [429, 'Too many failed login attempts; try again later'],
  internal_server_error: [500, 'Internal server error'],
  plugin_reload_fail: [500, 'Failed to reload plugin'],
  invalid_server: [500, 'Invalid registration server object in maubot configuration'],
  internal_crypto_error: [500, 'Internal crypto error'],
  not_implemented: [501, 'Not implemented'],
} as const satisfies Record<string, readonly [number, string]>;

export type MaubotErrcode = keyof typeof MAUBOT_ERRORS;

/** The one error type of the maubot API; the error middleware renders it as `{error, errcode}`. */
export class MaubotApiError extends ApiErrorBase<MaubotErrcode> {
  override name = 'MaubotApiError';

  constructor(
    errcode: MaubotErrcode,
    message?: string,
    extra: Record<string, unknown> = {},
    status?: number,
  ) {
    super(
      errcode,
      message ?? MAUBOT_ERRORS[errcode][1],
      status ?? MAUBOT_ERRORS[errcode][0],
      extra,
    );
  }

  get body(): Record<string, unknown> {
    return { error: this.message, errcode: this.errcode, ...this.extra };
  }
}
