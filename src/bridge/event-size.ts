import type { MessageContent } from './room-messenger';

/**
 * Synapse refuses (413 M_TOO_LARGE) an event whose federation form, as canonical JSON with its
 * hashes, signatures and references to earlier events, is over this many bytes (the spec's
 * limit on a PDU).
 */
export const MAX_EVENT_BYTES = 65_536;

/**
 * Kept free besides the estimated envelope: room versions 1 and 2 spell event references at
 * more length, and a server may add keys of its own.
 */
const SAFETY_BYTES = 1024;

/** What the room sees instead of a message that cannot be made to fit. */
export const TOO_LARGE_TEXT =
  'A message could not be posted here: it was too large for a Matrix event.';

const TRUNCATED_SUFFIX = '\n\n… (message truncated: it was too large for a Matrix event)';

/** The keys that make up the message itself; anything else is metadata (e.g. a raw payload). */
const MESSAGE_KEYS = new Set([
  'msgtype',
  'body',
  'format',
  'formatted_body',
  'm.mentions',
  'm.relates_to',
  'com.beeper.linkpreviews',
  'external_url',
  'url',
  'info',
  'filename',
]);

// An event id of room version 4 and later, and a hash: 43 characters of unpadded base64.
const EVENT_ID = `$${'x'.repeat(43)}`;
const BASE64_HASH = 'x'.repeat(43);
const ED25519_SIGNATURE = 'x'.repeat(86);
/** Synapse references at most 10 earlier events (forward extremities) from a new one. */
const MAX_PREV_EVENTS = 10;
const LARGEST_TIMESTAMP = 9_999_999_999_999;

/**
 * The bytes of an event's federation form apart from its content: the keys Synapse measures
 * with it, each at the largest size it takes for this room, sender and type.
 */
export function eventEnvelopeBytes(roomId: string, sender: string, type: string): number {
  const server = sender.slice(sender.indexOf(':') + 1);
  const pdu = {
    auth_events: [EVENT_ID, EVENT_ID, EVENT_ID, EVENT_ID],
    content: {},
    depth: Number.MAX_SAFE_INTEGER,
    hashes: { sha256: BASE64_HASH },
    origin: server,
    origin_server_ts: LARGEST_TIMESTAMP,
    prev_events: Array.from({ length: MAX_PREV_EVENTS }, () => EVENT_ID),
    room_id: roomId,
    sender,
    signatures: { [server]: { 'ed25519:a_xxxxxx': ED25519_SIGNATURE } },
    type,
    unsigned: { age_ts: LARGEST_TIMESTAMP },
  };
  // Less the "{}" that stands for the content.
  return Buffer.byteLength(JSON.stringify(pdu)) - 2;
}

/** Bytes left for the content of an event in this room, from this sender, of this type. */
export function contentBudget(roomId: string, sender: string, type: string): number {
  return MAX_EVENT_BYTES - SAFETY_BYTES - eventEnvelopeBytes(roomId, sender, type);
}

/** What was given up to make a message fit. */
export type FitStep = 'metadata' | 'html' | 'truncated' | 'replaced';

export interface FittedMessage {
  /** The content as JSON text, within the budget. */
  json: string;
  /** Empty when the message fitted as it was. */
  steps: FitStep[];
}

const bytesOf = (content: MessageContent): number => Buffer.byteLength(JSON.stringify(content));

/** `text` cut to at most `length` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/**
 * Makes a message fit in `budget` bytes of content, as hookshot does: first the metadata goes
 * (the raw payload a webhook carries along), then the HTML, then the text is cut and says so.
 * A message that still cannot fit is replaced by a short notice saying it was too large.
 */
export function fitMessage(content: MessageContent, budget: number): FittedMessage {
  const json = JSON.stringify(content);
  // A JavaScript string takes at most 3 bytes per UTF-16 unit as UTF-8.
  if (json.length * 3 <= budget) return { json, steps: [] };
  if (Buffer.byteLength(json) <= budget) return { json, steps: [] };

  const steps: FitStep[] = [];
  let fitted: MessageContent = content;
  const metadata = Object.keys(fitted).filter((key) => !MESSAGE_KEYS.has(key));
  if (metadata.length > 0) {
    fitted = Object.fromEntries(Object.entries(fitted).filter(([key]) => MESSAGE_KEYS.has(key)));
    steps.push('metadata');
    if (bytesOf(fitted) <= budget) return { json: JSON.stringify(fitted), steps };
  }
  if (fitted.formatted_body !== undefined || fitted.format !== undefined) {
    fitted = Object.fromEntries(
      Object.entries(fitted).filter(([key]) => key !== 'format' && key !== 'formatted_body'),
    );
    steps.push('html');
    if (bytesOf(fitted) <= budget) return { json: JSON.stringify(fitted), steps };
  }
  const body = typeof fitted.body === 'string' ? fitted.body : '';
  const withBody = (length: number): MessageContent => ({
    ...fitted,
    body: cut(body, length) + TRUNCATED_SUFFIX,
  });
  if (bytesOf(withBody(0)) > budget) {
    const replacement = { msgtype: 'm.notice', body: TOO_LARGE_TEXT };
    return { json: JSON.stringify(replacement), steps: [...steps, 'replaced'] };
  }
  // The longest prefix that fits (escapes make bytes per character uneven, so search).
  let low = 0;
  let high = body.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (bytesOf(withBody(mid)) <= budget) low = mid;
    else high = mid - 1;
  }
  steps.push('truncated');
  return { json: JSON.stringify(withBody(low)), steps };
}
