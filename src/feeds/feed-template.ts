import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { notice, type MessageContent } from '../bridge/room-messenger';
import type { FeedItem } from './feed-reader';

/** The feed a message is about, as the connection sees it. */
export interface FeedSource {
  /** The connection's label; $FEEDNAME falls back to the feed title, then the URL. */
  label?: string | undefined;
  url: string;
  /** The feed's own title, from its last fetch. */
  title: string | null;
}

/** Longest summary put into a message (feeds often carry whole articles). */
export const SUMMARY_MAX_CHARS = 512;
/**
 * How much of a summary's HTML is read to make those 512 characters. Sanitising is worse than
 * linear on hostile nesting (a megabyte of nested tags took 5 s), and it runs on the main thread.
 */
export const SUMMARY_SOURCE_MAX_CHARS = 16 * 1024;
/**
 * Titles, authors and feed names are cut to this length (with an ellipsis) before they go into
 * the markdown template: markdown is also worse than linear on hostile text (a megabyte of
 * emphasis marks took 1.6 s), and a Matrix event is at most 64 KiB.
 */
export const FIELD_MAX_CHARS = 512;
/** A longer link is left out of the message, as if the item had none. */
export const LINK_MAX_CHARS = 2048;

export const FEED_ITEM_KEY = 'uk.half-shot.matrix-hookshot.feeds.item';

// Summaries are HTML, so raw HTML is let through markdown-it; the result is sanitised below.
const md = new MarkdownIt({ html: true, linkify: false });

/** The HTML a Matrix client is asked to render (the spec's suggested set, without images). */
const MATRIX_HTML: sanitizeHtml.IOptions = {
  allowedTags: [
    'font',
    'del',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'p',
    'a',
    'ul',
    'ol',
    'sup',
    'sub',
    'li',
    'b',
    'i',
    'u',
    'strong',
    'em',
    's',
    'strike',
    'code',
    'hr',
    'br',
    'div',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'caption',
    'pre',
    'span',
    'details',
    'summary',
  ],
  allowedAttributes: { a: ['href'], ol: ['start'], code: ['class'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
};

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&nbsp;': ' ',
};

function clip(text: string | null, max = FIELD_MAX_CHARS): string | null {
  return text !== null && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The summary as sanitised HTML of at most SUMMARY_MAX_CHARS characters. */
export function summaryHtml(raw: string): string {
  const clean = sanitizeHtml(raw.slice(0, SUMMARY_SOURCE_MAX_CHARS), MATRIX_HTML);
  if (clean.length <= SUMMARY_MAX_CHARS) return clean;
  // Drop a tag or entity cut in half, then sanitise again so open tags are closed.
  const cut = clean
    .slice(0, SUMMARY_MAX_CHARS)
    .replace(/<[^>]*$/, '')
    .replace(/&[^;\s]*$/, '');
  return sanitizeHtml(cut, MATRIX_HTML);
}

/** The summary as plain text of at most SUMMARY_MAX_CHARS characters, for the message body. */
export function summaryText(raw: string): string {
  const withBreaks = raw
    .slice(0, SUMMARY_SOURCE_MAX_CHARS)
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|blockquote|tr)>/gi, '\n');
  const text = sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {} })
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (e) => ENTITIES[e] ?? e)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return text.length <= SUMMARY_MAX_CHARS ? text : text.slice(0, SUMMARY_MAX_CHARS);
}

/** The message template used when a connection has none. */
export function defaultTemplate(item: FeedItem): string {
  if (item.link) return 'New post in $FEEDNAME: $LINK';
  if (item.title) return 'New post in $FEEDNAME: $TITLE';
  return 'New post in $FEEDNAME';
}

const escapeLinkText = (text: string): string => text.replace(/([[\]\\])/g, '\\$1');
const escapeLinkTarget = (url: string): string =>
  url.replace(/[()\s<>]/g, (c) => encodeURIComponent(c));

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\$[A-Z]+/g, (token) => values[token] ?? token);
}

/**
 * The notice for a new feed item: the template with its tokens filled in, rendered from
 * markdown. The body carries the summary as text, the HTML as sanitised HTML; links, titles
 * and names are put in as the feed gives them (markdown in them renders, HTML is sanitised).
 */
export function feedMessage(feed: FeedSource, raw: FeedItem, template?: string): MessageContent {
  const item: FeedItem = {
    ...raw,
    title: clip(raw.title),
    author: clip(raw.author),
    link: raw.link !== null && raw.link.length <= LINK_MAX_CHARS ? raw.link : null,
  };
  const feedTitle = clip(feed.title);
  const chosen = template || defaultTemplate(item);
  const date = item.date ? item.date.toUTCString() : '';
  const link = item.link
    ? `[${escapeLinkText(item.title ?? item.link)}](${escapeLinkTarget(item.link)})`
    : '';
  const common: Record<string, string> = {
    $FEEDNAME: feed.label || feedTitle || feed.url,
    $FEEDURL: feed.url,
    $FEEDTITLE: feedTitle ?? '',
    $TITLE: item.title ?? '',
    $LINK: link,
    $URL: item.link ?? '',
    $AUTHOR: item.author ?? '',
    $DATE: date,
  };
  const summary = item.summary ? summaryHtml(item.summary) : '';
  const body = fill(chosen, {
    ...common,
    $SUMMARY: item.summary ? summaryText(item.summary) : '',
  });
  const html = sanitizeHtml(
    md.renderInline(fill(chosen, { ...common, $SUMMARY: summary })),
    MATRIX_HTML,
  );
  return notice(body, html, {
    ...(item.link ? { external_url: item.link } : {}),
    [FEED_ITEM_KEY]: {
      feed: { title: feedTitle, url: feed.url },
      title: item.title,
      link: item.link,
      author: item.author,
      pubdate: item.date ? date : null,
      summary: summary || null,
    },
  });
}
