import { createHash } from 'node:crypto';
import { parseFeed } from '@rowanmanning/feed-parser';

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

const md5 = (value: string): string => createHash('md5').update(value).digest('hex');

/**
 * The feed in `text`, fetched from `url` (relative links are resolved against it); null when
 * the text is not an RSS or Atom feed.
 */
export function parseFeedText(text: string, url: string): ParsedFeed | null {
  let parsed: ReturnType<typeof parseFeed>;
  try {
    parsed = parseFeed(text);
  } catch {
    return null;
  }
  // Each item's url and authors ask the feed for its own, and the feed's getters scan every
  // child of the channel on each call: quadratic in the items (5,000 took 9 s). Kept once here.
  for (const key of ['url', 'authors'] as const) {
    Object.defineProperty(parsed, key, { value: parsed[key] });
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
