import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Whether `header` is `sha256=<hex HMAC-SHA256 of the body>` with this secret (GitHub's
 * X-Hub-Signature-256, JIRA's X-Hub-Signature), compared in constant time.
 */
export function hubSignatureMatches(header: string, body: Buffer, secret: string): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(given, expected);
}
