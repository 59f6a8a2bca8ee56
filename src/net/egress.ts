import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { isHttpScheme } from '../util/http-url';

/** A destination the server refuses to contact (private address, bad scheme, too many hops). */
export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
}

export interface EgressOptions {
  /** Allow loopback, private, link-local and other non-public addresses. */
  allowPrivate: boolean;
  /** Whole request time limit, redirects included. */
  timeoutMs: number;
  maxRedirects?: number;
}

function isPublic(address: string): boolean {
  const parsed = ipaddr.parse(address);
  const ip =
    parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
      ? (parsed as ipaddr.IPv6).toIPv4Address()
      : parsed;
  return ip.range() === 'unicast';
}

/**
 * Refuses URLs that are not http(s) or whose host resolves to a non-public address. The check
 * resolves the name itself, so a later resolution by the HTTP client could differ (DNS
 * rebinding); it keeps ordinary mistakes and casual probing of the internal network out.
 */
export async function checkDestination(url: URL, allowPrivate: boolean): Promise<void> {
  if (!isHttpScheme(url)) {
    throw new EgressRefusedError(`${url.protocol} URLs are not allowed`);
  }
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host)
    ? [host]
    : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  if (addresses.length === 0 || !addresses.every(isPublic)) {
    throw new EgressRefusedError(`${url.hostname} is not a public address`);
  }
}

/**
 * fetch() to a checked destination, following redirects by hand so that every hop is checked,
 * within one time limit.
 */
export async function guardedFetch(
  input: string | URL,
  init: RequestInit,
  options: EgressOptions,
): Promise<Response> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = new URL(input);
  const hops = options.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    await checkDestination(url, options.allowPrivate);
    const res = await fetch(url, { ...init, redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || location === null) return res;
    await res.body?.cancel();
    if (hop >= hops) throw new EgressRefusedError('too many redirects');
    url = new URL(location, url);
    // A 303 (and, by browser convention, 301/302 after POST) turns into a GET without a body.
    if (
      res.status === 303 ||
      ((res.status === 301 || res.status === 302) && init.method === 'POST')
    ) {
      init = { ...init, method: 'GET', body: null };
    }
  }
}
