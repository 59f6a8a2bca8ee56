import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * maubot's signed tokens: `<b64url(HMAC-SHA256(secret, paddedPayload))>:<b64url(payload)>`
 * with the payload `{"user_id": ..., "created_at": ...}` in Python's JSON layout. Tokens
 * never expire; they stay valid while the secret is unchanged and the user is an admin.
 */
function checksum(secret: string, paddedPayload: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(paddedPayload, 'utf8')
    .digest('base64url');
}

function pad(b64: string): string {
  return b64 + '='.repeat((4 - (b64.length % 4)) % 4);
}

export function signToken(secret: string, userId: string, createdAt = Date.now()): string {
  const json = `{"user_id": ${JSON.stringify(userId)}, "created_at": ${Math.floor(createdAt / 1000)}}`;
  const payload = Buffer.from(json, 'utf8').toString('base64url');
  return `${checksum(secret, pad(payload))}:${payload}`;
}

/** Returns the token's user id, or null when the signature or payload is bad. */
export function verifyToken(secret: string, token: string): string | null {
  const sep = token.indexOf(':');
  if (sep <= 0) return null;
  const given = Buffer.from(token.slice(0, sep), 'utf8');
  const payload = token.slice(sep + 1);
  // maubot pads with '=' before signing and accepts either alphabet's padding on decode.
  const padded = pad(payload.replace(/=+$/, ''));
  const expected = Buffer.from(checksum(secret, padded), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const data: unknown = JSON.parse(Buffer.from(padded, 'base64url').toString('utf8'));
    if (typeof data !== 'object' || data === null) return null;
    const userId = (data as { user_id?: unknown }).user_id;
    return typeof userId === 'string' ? userId : null;
  } catch {
    return null;
  }
}
