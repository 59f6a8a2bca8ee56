/**
 * Path segments that are secrets: whoever knows a webhook's hook id can post to its room, and
 * whoever knows an SSO session id can complete that login. Routes match case-insensitively.
 */
const SECRET_TAILS = [
  /^(\/webhook\/).+$/i,
  /^(\/_matrix\/maubot\/v1\/client\/auth_external_sso\/complete\/).+$/i,
];

/**
 * A request URL as it may appear in a log: the path without its query (which may carry an
 * `access_token`) and with secret segments replaced.
 */
export function loggablePath(url: string): string {
  let path = url.split('?', 1)[0]!;
  for (const pattern of SECRET_TAILS) path = path.replace(pattern, '$1[redacted]');
  return path;
}
