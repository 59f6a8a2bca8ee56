import { MaubotApiError } from './errors';

/** The body as a JSON object, or null: maubot cannot use anything else (empty, array, text). */
export function jsonObjectOrNull(body: unknown): Record<string, unknown> | null {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : null;
}

/** The body as a JSON object; maubot's 400 `body_not_json` otherwise. */
export function requireJsonObject(body: unknown): Record<string, unknown> {
  const object = jsonObjectOrNull(body);
  if (object === null) throw new MaubotApiError('body_not_json');
  return object;
}
