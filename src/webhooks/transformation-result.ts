import type { MessageContent } from '../bridge/room-messenger';
import { htmlFields, renderMarkdown } from './webhook-message';

/** What the script asks the hook to answer when the sender waits for completion. */
export interface WebhookResponse {
  body: string;
  /** A media type of RESPONSE_TYPES (lowercase, without parameters). */
  contentType?: string;
  statusCode?: number;
}

export interface TransformResult {
  /**
   * The message to post (without the payload, which the caller attaches); null when the script
   * asked for none (`empty`).
   */
  content: MessageContent | null;
  webhookResponse?: WebhookResponse;
}

export const API_VERSION = 'v2';

/**
 * Media types a transformation may answer with. They are served on the webhooks listener's
 * origin, so nothing a browser renders as a page (HTML, SVG, XHTML) is among them.
 */
const RESPONSE_TYPES = new Set([
  'application/json',
  'text/plain',
  'text/csv',
  'application/xml',
  'text/xml',
]);
const JSON_SUFFIX_TYPE = /^application\/[a-z0-9.-]+\+json$/;
// A media type with at most a UTF-8 charset: the body is sent as UTF-8 whatever it says.
const CONTENT_TYPE = /^\s*([a-z0-9.+-]+\/[a-z0-9.+-]+)\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Thrown (inside the runner) for a result that is not one of hookshot's forms. */
export class InvalidResultError extends Error {
  override name = 'InvalidResultError';

  constructor(message: string) {
    super(`Invalid transformation result: ${message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The allowed media type named by a script's contentType, or undefined. */
export function responseMediaType(contentType: string): string | undefined {
  const match = CONTENT_TYPE.exec(contentType);
  const type = match?.[1]?.toLowerCase();
  if (type === undefined) return undefined;
  return RESPONSE_TYPES.has(type) || JSON_SUFFIX_TYPE.test(type) ? type : undefined;
}

function textNotice(plain: string): MessageContent {
  return { msgtype: 'm.notice', body: plain, ...htmlFields(renderMarkdown(plain)) };
}

function checkResponse(value: unknown): WebhookResponse {
  if (!isRecord(value) || typeof value.body !== 'string') {
    throw new InvalidResultError("'webhookResponse.body' must be a string");
  }
  const { body, contentType, statusCode } = value;
  let type: string | undefined;
  if (contentType !== undefined) {
    type = typeof contentType === 'string' ? responseMediaType(contentType) : undefined;
    if (type === undefined) {
      throw new InvalidResultError(
        "'webhookResponse.contentType' must be one of application/json, application/*+json, " +
          'text/plain, text/csv, application/xml, text/xml (charset utf-8 at most)',
      );
    }
  }
  if (
    statusCode !== undefined &&
    (typeof statusCode !== 'number' ||
      !Number.isInteger(statusCode) ||
      statusCode < 200 ||
      statusCode > 599)
  ) {
    throw new InvalidResultError("'webhookResponse.statusCode' must be an HTTP status 200-599");
  }
  return {
    body,
    ...(type !== undefined ? { contentType: type } : {}),
    ...(statusCode !== undefined ? { statusCode } : {}),
  };
}

function checkMentions(mentions: unknown): Record<string, unknown> {
  if (!isRecord(mentions)) throw new InvalidResultError("'mentions' must be an object");
  const { room, user_ids: userIds } = mentions;
  if (room !== undefined && typeof room !== 'boolean') {
    throw new InvalidResultError("'mentions.room' must be a boolean");
  }
  if (
    userIds !== undefined &&
    !(Array.isArray(userIds) && userIds.every((u) => typeof u === 'string'))
  ) {
    throw new InvalidResultError("'mentions.user_ids' must be a list of strings");
  }
  return {
    ...(room !== undefined ? { room } : {}),
    ...(userIds !== undefined ? { user_ids: userIds } : {}),
  };
}

/**
 * Turns what the script left in `result` into the message and the answer to the sender, with
 * hookshot's rules: a string is the v1 form, anything that is not an object (null included, as
 * hookshot documents) is "No content", an object must be a v2 result.
 */
export function interpretResult(result: unknown): TransformResult {
  if (typeof result === 'string') return { content: textNotice(`Received webhook: ${result}`) };
  if (typeof result !== 'object' || result === null) return { content: textNotice('No content') };
  if (!isRecord(result)) throw new InvalidResultError(`'version' must be "${API_VERSION}"`);
  const { version, plain, html, msgtype, empty, mentions, hints, webhookResponse } = result;
  if (version === undefined) throw new InvalidResultError(`'version' must be "${API_VERSION}"`);
  if (version !== API_VERSION) {
    throw new InvalidResultError(`unsupported version ${JSON.stringify(version)}`);
  }
  // Like hookshot, webhookResponse, empty, mentions and hints count when truthy.
  const response = webhookResponse ? { webhookResponse: checkResponse(webhookResponse) } : {};
  if (empty) return { content: null, ...response };
  if (typeof plain !== 'string') throw new InvalidResultError("'plain' must be a string");
  if (html !== undefined && typeof html !== 'string') {
    throw new InvalidResultError("'html' must be a string");
  }
  if (msgtype !== undefined && typeof msgtype !== 'string') {
    throw new InvalidResultError("'msgtype' must be a string");
  }
  let previews: boolean | undefined;
  if (hints) {
    const show = isRecord(hints) ? hints.showUrlPreviews : undefined;
    if (show !== undefined && typeof show !== 'boolean') {
      throw new InvalidResultError("'hints.showUrlPreviews' must be a boolean");
    }
    previews = show;
  }
  return {
    content: {
      msgtype: msgtype ?? 'm.notice',
      body: plain,
      ...htmlFields(html || renderMarkdown(plain)),
      ...(mentions ? { 'm.mentions': checkMentions(mentions) } : {}),
      // What hookshot sends to ask clients for no URL previews.
      ...(previews === false ? { 'com.beeper.linkpreviews': [] } : {}),
    },
    ...response,
  };
}
