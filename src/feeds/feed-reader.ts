import { Worker } from 'node:worker_threads';
import { EgressRefusedError, guardedFetch } from '../net/egress';
import { KeyedLock } from '../util/keyed-lock';
import { workerEntry } from '../util/worker-entry';
import { parseFeedText, type ParsedFeed } from './feed-parse';

export type { FeedItem, ParsedFeed } from './feed-parse';

/** Largest feed body read; a bigger one is refused rather than buffered. */
export const MAX_FEED_BYTES = 10 * 1024 * 1024;
/**
 * Feeds up to this many characters are parsed on the main thread (at most about 30 ms); bigger
 * ones in a worker thread, since 10 MB of XML takes seconds to parse.
 */
export const INLINE_PARSE_MAX_CHARS = 64 * 1024;
/** A worker parse that takes longer is stopped and the fetch fails. */
export const PARSE_TIMEOUT_MS = 10_000;
/** The parsing worker's heap: 10 MB of XML parsed into objects fits with room to spare. */
const PARSE_HEAP_MB = 256;
/** One worker parse at a time, so that big feeds due together cost one heap, not several. */
const workerParses = new KeyedLock();

export type FeedFetch =
  | { status: 'not-modified' }
  | { status: 'ok'; etag: string | null; lastModified: string | null; feed: ParsedFeed };

export interface ReadFeedOptions {
  /** Validators of the last successful fetch, sent so an unchanged feed answers 304. */
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Time for a worker parse of a big feed (PARSE_TIMEOUT_MS by default). */
  parseTimeoutMs?: number;
}

/** A feed that could not be fetched or parsed; the message is shown to users. */
export class FeedError extends Error {
  override name = 'FeedError';
}

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
    const text = decode(bytes, res.headers.get('content-type'));
    const feed =
      text.length <= INLINE_PARSE_MAX_CHARS
        ? parseFeedText(text, url)
        : await workerParses.run('', () =>
            parseInWorker(text, url, options.parseTimeoutMs ?? PARSE_TIMEOUT_MS),
          );
    if (!feed) throw new FeedError(NOT_A_FEED);
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

const NOT_A_FEED = 'the document is not an RSS or Atom feed';

/**
 * Parses in a worker thread of its own, stopped after `timeoutMs` or when it needs more than
 * its heap: a hostile feed costs the main thread nothing but the copy of its text.
 */
export function parseInWorker(
  text: string,
  url: string,
  timeoutMs: number,
): Promise<ParsedFeed | null> {
  const entry = workerEntry(__dirname, 'feed-parse-worker');
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry.code, {
      eval: entry.eval,
      workerData: { text, url },
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: PARSE_HEAP_MB, maxYoungGenerationSizeMb: 16 },
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new FeedError(`parsing took longer than ${timeoutMs / 1000} s`))),
      timeoutMs,
    );
    worker.once('message', (feed: ParsedFeed | null) => settle(() => resolve(feed)));
    worker.once('error', (err) =>
      settle(() =>
        reject(
          new FeedError(
            (err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? 'parsing needed too much memory'
              : NOT_A_FEED,
          ),
        ),
      ),
    );
    worker.once('exit', () => settle(() => reject(new FeedError(NOT_A_FEED))));
  });
}
