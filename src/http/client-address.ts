import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The client's address: the TCP peer's, or — when the peer is one of the trusted reverse
 * proxies — the nearest untrusted address in X-Forwarded-For. Entries are addresses, CIDR
 * ranges or the names `loopback`, `linklocal` and `uniquelocal`, as Express's `trust proxy`.
 */
export function clientAddressOf(
  trustedProxies: readonly string[],
): (req: IncomingMessage) => string {
  const trust = proxyaddr.compile([...trustedProxies]);
  return (req) => proxyaddr(req, trust);
}
