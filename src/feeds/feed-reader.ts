import { createHash } from 'node:crypto';
import { parseFeed } from '@rowanmanning/feed-parser';
import { EgressRefusedError, guardedFetch } from '../net/egress';

/** Largest feed body read; a bigger one is refused rather than buffered. */
export const MAX_FEED_BYTES = 10 * 1024 * 1024;

/** One entry of a feed, as the poller and the templates use it. */
export interface FeedItem {
  /** Hex MD5 of the guid (RSS) or id (Atom), else of the link, else of the title. */
  id: string;
  title: string | null;
  /** Absolute URL of the entry (relative links are resolved against the feed URL). */
  link: string | null;
  author: string | null;
  date: Date | null;
  /** The description or content, as HTML from the feed (not yet sanitised). */
  summary: string | null;
}

export interface ParsedFeed {
  title: string | null;
  /** In document order (most feeds list the newest first). */
  items: FeedItem[];
}

export type FeedFetch =
  | { status: 'not-modified' }
  | { status: 'ok'; etag: string | null; lastModified: string | null; feed: ParsedFeed };

export interface ReadFeedOptions {
  /** Validators of the last successful fetch, sent so an unchanged feed answers 304. */
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  allowPrivate: boolean;
}

/** A feed that could not be fetched or parsed; the message is shown to users. */
export class FeedError extends Error {
  override name = 'FeedError';
}

const md5 = (value: string): string => createHash('md5').update(value).digest('hex');

export async function readFeed(url: string, options: ReadFeedOptions): Promise<FeedFetch> {
  const headers: Record<string, string> = {
    'user-agent': 'Switchboard feed reader',
    accept:
      'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
  };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const seconds = Math.round(options.timeoutMs / 100) / 10;
  try {
    const res = await guardedFetch(
      url,
      { headers },
      { allowPrivate: options.allowPrivate, timeoutMs: options.timeoutMs },
    );
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 'not-modified' };
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel();
      throw new FeedError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const bytes = await readCapped(res);
    const feed = parseBody(decode(bytes, res.headers.get('content-type')), url);
    return {
      status: 'ok',
      etag: res.headers.get('etag'),
      lastModified: res.headers.get('last-modified'),
      feed,
    };
  } catch (err) {
    throw toFeedError(err, seconds);
  }
}

interface ErrorLike {
  name: string;
  message: string;
  code?: unknown;
  cause?: unknown;
}

// fetch() errors may come from another realm (a test VM), so `instanceof Error` is not used.
function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorLike).message === 'string' &&
    typeof (value as ErrorLike).name === 'string'
  );
}

function toFeedError(err: unknown, seconds: number): FeedError {
  if (err instanceof FeedError) return err;
  if (err instanceof EgressRefusedError) return new FeedError(err.message);
  if (!isErrorLike(err)) return new FeedError(String(err));
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new FeedError(`timed out after ${seconds} s`);
  }
  // fetch() reports network failures as "fetch failed" with the system error as the cause.
  if (isErrorLike(err.cause)) {
    const code = typeof err.cause.code === 'string' ? err.cause.code : err.cause.message;
    return new FeedError(`could not connect (${code})`);
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new FeedError(`could not resolve the host name (${err.code})`);
  }
  return new FeedError(err.message);
}

async function readCapped(res: Response): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_FEED_BYTES) {
    await res.body?.cancel();
    throw new FeedError('the feed is larger than 10 MB');
  }
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const result = await reader.read();
    if (result.done) break;
    const value = result.value;
    total += value.byteLength;
    if (total > MAX_FEED_BYTES) {
      await reader.cancel();
      throw new FeedError('the feed is larger than 10 MB');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Text of the body in the charset of the Content-Type, else of the XML declaration, else UTF-8. */
function decode(bytes: Uint8Array, contentType: string | null): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const fromProlog = /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1];
  for (const label of [fromHeader, fromProlog]) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // An unknown charset label: try the next source.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

function parseBody(text: string, url: string): ParsedFeed {
  let parsed: ReturnType<typeof parseFeed>;
  try {
    parsed = parseFeed(text);
  } catch {
    throw new FeedError('the document is not an RSS or Atom feed');
  }
  const items: FeedItem[] = [];
  for (const entry of parsed.items) {
    const link = absolute(entry.url, url);
    const key = entry.id || link || entry.title || entry.description;
    // An entry with nothing to tell it apart cannot be tracked, so it is never posted.
    if (!key) continue;
    const author = entry.authors[0];
    items.push({
      id: md5(key),
      title: entry.title || null,
      link,
      author: author ? author.name || author.email || null : null,
      date: entry.published ?? entry.updated ?? null,
      summary: entry.description || entry.content || null,
    });
  }
  return { title: parsed.title || null, items };
}

function absolute(link: string | null, base: string): string | null {
  if (!link) return null;
  try {
    return new URL(link, base).toString();
  } catch {
    return link;
  }
}
