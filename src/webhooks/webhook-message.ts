import MarkdownIt from 'markdown-it';
import type { MessageContent } from '../bridge/room-messenger';

/** The content key that carries the (sanitised) payload along with the notice. */
export const WEBHOOK_DATA_KEY = 'uk.half-shot.hookshot.webhook_data';

const MAX_DEPTH = 10;
const MAX_ENTRIES = 50;

// Payload text is untrusted: with html off, markdown-it escapes any raw HTML in it.
const markdown = new MarkdownIt({ html: false, linkify: false });

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const HTML_SPECIALS = /[&<>"']/g;

export function escapeHtml(text: string): string {
  return text.replace(HTML_SPECIALS, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Longer text is sent without HTML (as a message too large for an event loses its HTML first,
 * event-size.ts). Rendering runs on the main thread, and markdown-it takes time that grows with
 * the square of the text on hostile input (nested `![`, `[`, emphasis): about 40 ms for 8 KiB,
 * 0.3 s for 32 KiB, 2 s for a megabyte of `[`.
 */
export const MAX_MARKDOWN_CHARS = 8192;

/** Markdown to the HTML of a notice (trimmed, as clients show it); none for too long a text. */
export function renderMarkdown(text: string): string | undefined {
  if (text.length > MAX_MARKDOWN_CHARS) return undefined;
  return markdown.render(text).trim();
}

/** A notice's `format` and `formatted_body`, or nothing without HTML. */
export function htmlFields(html: string | undefined): Partial<MessageContent> {
  return html === undefined ? {} : { format: 'org.matrix.custom.html', formatted_body: html };
}

/**
 * The payload made safe for event content: Matrix canonical JSON has no floats, and very deep
 * or wide values are kept as JSON text rather than as structure.
 */
export function sanitiseWebhookData(value: unknown, depth = 0): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : String(value);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (depth > MAX_DEPTH || entries.length > MAX_ENTRIES) return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((v: unknown) => sanitiseWebhookData(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) out[key] = sanitiseWebhookData(v, depth + 1);
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The m.notice for a payload posted to a hook without a transformation function. */
export function webhookMessage(payload: unknown): MessageContent {
  let plain: string;
  let html: string | undefined;
  if (typeof payload === 'string') {
    plain = `Received webhook data: ${payload}`;
  } else if (isRecord(payload) && typeof payload.text === 'string') {
    plain = payload.text;
  } else {
    const json = JSON.stringify(payload, null, 2) ?? 'null';
    plain = `Received webhook data:\n\n\`\`\`json\n${json}\n\`\`\``;
    html =
      '<p>Received webhook data:</p>' +
      `<pre><code class="language-json">${escapeHtml(json)}\n</code></pre>`;
  }
  if (isRecord(payload)) {
    if (typeof payload.html === 'string') html = payload.html;
    if (typeof payload.username === 'string') {
      plain = `**${payload.username}**: ${plain}`;
      if (html !== undefined) html = `<strong>${escapeHtml(payload.username)}</strong>: ${html}`;
    }
  }
  return {
    msgtype: 'm.notice',
    body: plain,
    ...htmlFields(html ?? renderMarkdown(plain)),
    [WEBHOOK_DATA_KEY]: sanitiseWebhookData(payload),
  };
}
