import type { WebhookSettings } from '../config/schema';
import type { StoredConnection } from '../bridge/connection-types';
import { notice, type MessageContent, type RoomMessenger } from '../bridge/room-messenger';
import type { Logger } from '../logging/logger';
import {
  TransformationBusyError,
  type TransformationRunner,
  type TransformResult,
  type WebhookResponse,
} from './transformation';
import { parseExpirationDate } from './webhook-kind';
import type { WebhookHooks } from './webhook-hooks';
import { sanitiseWebhookData, WEBHOOK_DATA_KEY, webhookMessage } from './webhook-message';

export interface WebhookDeliveryDeps {
  settings: WebhookSettings;
  logger: Logger;
  hooks: WebhookHooks;
  connection(id: string): StoredConnection | undefined;
  messenger: RoomMessenger;
  runner: TransformationRunner;
  now?: () => number;
}

/** What became of one post to a hook; the ingress layer decides what the sender is answered. */
export type DeliveryOutcome =
  /** Taken; the message goes out after the answer. */
  | { kind: 'accepted' }
  /** Posted in the room (the hook waits for completion), with the transformation's own answer. */
  | { kind: 'delivered'; response?: WebhookResponse }
  | { kind: 'notFound' }
  | { kind: 'expired' }
  /** Shed: too many messages wait for the homeserver, or too many calls for transformations. */
  | { kind: 'busy'; waiting: 'messages' | 'transformations' }
  | { kind: 'transformFailed' }
  | { kind: 'sendFailed' }
  /** The payload nests deeper than MAX_PAYLOAD_DEPTH; nothing is posted. */
  | { kind: 'tooDeep'; limit: number };

/**
 * How deeply a payload may nest. Rendering, sanitising and handing a payload to a
 * transformation all walk it, and far deeper values overflow the stack there.
 */
export const MAX_PAYLOAD_DEPTH = 256;

/** Whether `value` nests deeper than `limit` (walked without recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** How long a waiting sender waits for the room to take the message. */
export const SEND_TIMEOUT_MS = 5_000;
const FAILED_TRANSFORMATION_NOTICE =
  'Webhook received but failed to process via transformation function';
/** Asks clients not to show URL previews of a message (MSC4095's hint, as hookshot sends it). */
const NO_URL_PREVIEWS = 'com.beeper.linkpreviews';

/** The hook's options applied to its message: the payload left out, URL previews off. */
function withHookOptions(
  content: MessageContent,
  connection: StoredConnection,
  includeHookBodyByDefault: boolean,
): MessageContent {
  const { includeHookBody, showUrlPreviews } = connection.config;
  let shaped = content;
  if ((includeHookBody ?? includeHookBodyByDefault) === false && WEBHOOK_DATA_KEY in shaped) {
    shaped = Object.fromEntries(Object.entries(shaped).filter(([k]) => k !== WEBHOOK_DATA_KEY));
  }
  if (showUrlPreviews === false) shaped = { ...shaped, [NO_URL_PREVIEWS]: [] };
  return shaped;
}

class SendTimeout extends Error {}

/**
 * Inbound generic webhooks: a post to a hook becomes a notice in its room, through the hook's
 * transformation function when it has one, with the sender waiting for the room when asked to.
 */
export class WebhookDelivery {
  private readonly now: () => number;

  constructor(private readonly deps: WebhookDeliveryDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether hooks take GET requests (the query as payload). */
  get acceptsGet(): boolean {
    return this.deps.settings.enableHttpGet;
  }

  async deliver(hookId: string, payload: unknown): Promise<DeliveryOutcome> {
    const { hooks, settings, messenger, runner } = this.deps;
    if (nestedDeeperThan(payload, MAX_PAYLOAD_DEPTH))
      return { kind: 'tooDeep', limit: MAX_PAYLOAD_DEPTH };
    const connectionId = hooks.connectionOf(hookId);
    const connection = connectionId !== undefined ? this.deps.connection(connectionId) : undefined;
    if (!connection) return { kind: 'notFound' };
    const expiry = connection.config.expirationDate;
    if (typeof expiry === 'string' && parseExpirationDate(expiry) <= this.now()) {
      return { kind: 'expired' };
    }
    // Shedding load here keeps memory bounded while the homeserver is slow or away.
    if (messenger.backlog >= settings.maxPendingMessages) {
      return { kind: 'busy', waiting: 'messages' };
    }
    const code = this.transformationOf(connection);
    let transformed: Promise<TransformResult> | undefined;
    if (code !== undefined) {
      try {
        // Queued now, so a hook's calls run, and their messages are posted, in arrival order.
        transformed = runner.run(connection.id, code, payload);
      } catch (err) {
        if (!(err instanceof TransformationBusyError)) throw err;
        return { kind: 'busy', waiting: 'transformations' };
      }
    }
    const wait = settings.waitForComplete || connection.config.waitForComplete === true;
    if (!wait) {
      if (transformed === undefined) {
        // Handed over synchronously, so deliveries reach the messenger in their arrival order.
        this.post(connection, this.plainContent(connection, payload));
      } else {
        transformed
          .then(
            (result) => {
              const content = this.transformedContent(connection, result, payload);
              if (content !== null) this.post(connection, content);
            },
            (err: unknown) => this.reportFailedTransformation(connection, err),
          )
          .catch((err: unknown) => this.deps.logger.error({ err }, 'webhook delivery failed'));
      }
      return { kind: 'accepted' };
    }
    let content: MessageContent | null;
    let response: WebhookResponse | undefined;
    if (transformed === undefined) {
      content = this.plainContent(connection, payload);
    } else {
      try {
        const result = await transformed;
        content = this.transformedContent(connection, result, payload);
        response = result.webhookResponse;
      } catch (err) {
        this.reportFailedTransformation(connection, err);
        return { kind: 'transformFailed' };
      }
    }
    if (content !== null) {
      try {
        await this.sendWithin(connection.roomId, content);
      } catch (err) {
        this.deps.logger.warn(
          { connectionId: connection.id, err },
          'could not post a webhook message',
        );
        return { kind: 'sendFailed' };
      }
    }
    return response ? { kind: 'delivered', response } : { kind: 'delivered' };
  }

  /** The hook's transformation function, if it has one and they are allowed. */
  private transformationOf(connection: StoredConnection): string | undefined {
    const code = connection.config.transformationFunction;
    return this.deps.settings.allowJsTransformationFunctions &&
      typeof code === 'string' &&
      code !== ''
      ? code
      : undefined;
  }

  /** A transformation's message with the payload attached, as every webhook notice has it. */
  private transformedContent(
    connection: StoredConnection,
    result: TransformResult,
    payload: unknown,
  ): MessageContent | null {
    if (result.content === null) return null;
    const content = { ...result.content, [WEBHOOK_DATA_KEY]: sanitiseWebhookData(payload) };
    return withHookOptions(content, connection, this.deps.settings.includeHookBody);
  }

  /** The plain notice of a payload, shaped by the hook's options. */
  private plainContent(connection: StoredConnection, payload: unknown): MessageContent {
    return withHookOptions(webhookMessage(payload), connection, this.deps.settings.includeHookBody);
  }

  private post(connection: StoredConnection, content: MessageContent): void {
    this.deps.messenger.post(connection.roomId, content, (err) => {
      if (err !== null) {
        this.deps.logger.warn(
          { connectionId: connection.id, err },
          'could not post a webhook message',
        );
      }
    });
  }

  private reportFailedTransformation(connection: StoredConnection, err: unknown): void {
    const { logger, messenger } = this.deps;
    logger.warn(
      { connectionId: connection.id, err: err instanceof Error ? err.message : String(err) },
      'webhook transformation failed',
    );
    messenger.post(connection.roomId, notice(FAILED_TRANSFORMATION_NOTICE), (e) => {
      if (e !== null) {
        logger.warn({ connectionId: connection.id, err: e }, 'could not post the failure notice');
      }
    });
  }

  private async sendWithin(roomId: string, content: MessageContent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendTimeout('no answer')), SEND_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.deps.messenger.send(roomId, content), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
