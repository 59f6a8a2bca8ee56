import express, {
  Router,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { parseStringPromise } from 'xml2js';
import type { Config } from '../config/schema';
import type { StoredConnection } from '../connections/connection-types';
import { notice, type MessageContent, type RoomMessenger } from '../connections/room-messenger';
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

export interface WebhookIngressDeps {
  config: Config;
  logger: Logger;
  hooks: WebhookHooks;
  connection(id: string): StoredConnection | undefined;
  messenger: RoomMessenger;
  runner: TransformationRunner;
  now?: () => number;
}

/** How long a waiting sender waits for the room to take the message. */
export const SEND_TIMEOUT_MS = 5_000;
/** Retry-After of the 503 a sender gets while too many messages wait for the homeserver. */
const BUSY_RETRY_AFTER_S = 5;
const FAILED_TRANSFORMATION_NOTICE =
  'Webhook received but failed to process via transformation function';
/**
 * Sent with a transformation's own answer: it is written by whoever edits the hook, and served
 * on this listener's origin, so browsers must neither sniff it into a page nor run anything.
 */
const TRANSFORMATION_RESPONSE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "sandbox; default-src 'none'",
};

const JSON_TYPES = ['application/json', 'application/*+json'];
const FORM_TYPES = ['application/x-www-form-urlencoded'];
// XML goes first, so text/xml is parsed as XML rather than taken as text (as hookshot does).
const XML_TYPES = ['*/xml', '*/*+xml'];
const TEXT_TYPES = ['text/*'];
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

/** Asks clients not to show URL previews of a message (MSC4095's hint, as hookshot sends it). */
const NO_URL_PREVIEWS = 'com.beeper.linkpreviews';

/**
 * XML bodies parsed into objects as hookshot parses them (xml2js with its defaults: elements
 * as arrays, attributes under `$`, text beside attributes under `_`), so transformation
 * functions written for hookshot see the same data.
 */
function xmlParser(limit: number): RequestHandler[] {
  return [
    express.text({ limit, type: XML_TYPES }),
    (req, _res, next) => {
      if (typeof req.body !== 'string' || !req.is(XML_TYPES)) {
        next();
        return;
      }
      parseStringPromise(req.body).then(
        (parsed: unknown) => {
          // An empty document is no body at all.
          req.body = parsed ?? {};
          next();
        },
        () => next(Object.assign(new Error('invalid XML'), { type: 'entity.parse.failed' })),
      );
    },
  ];
}

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

function methodNotAllowed(res: Response, expecting: string, allow: string): void {
  res
    .status(405)
    .set('Allow', allow)
    .json({
      errcode: 'HS_METHOD_NOT_ALLOWED',
      error: `Invalid Method. Expecting ${expecting}`,
    });
}

interface ParserError {
  status?: number;
  type?: string;
}

/** Inbound generic webhooks at /webhook/:hookId, for the webhooks listener. */
export function webhookIngressRouter(deps: WebhookIngressDeps): Router {
  const { config, logger, hooks, messenger, runner } = deps;
  const now = deps.now ?? Date.now;
  const settings = config.webhooks;
  const limit = settings?.maxBodyBytes ?? 1_048_576;
  const maxPending = settings?.maxPendingMessages ?? 100_000;
  const enableGet = settings?.enableHttpGet === true;
  const waitGlobally = settings?.waitForComplete === true;
  const transformationsAllowed = settings?.allowJsTransformationFunctions === true;
  const includeHookBody = settings?.includeHookBody !== false;
  const router = Router();

  const parsers = [
    ...xmlParser(limit),
    express.json({ limit, strict: false, type: JSON_TYPES }),
    express.urlencoded({ limit, extended: false, type: FORM_TYPES }),
    express.text({ limit, type: TEXT_TYPES }),
  ];

  /** The hook's transformation function, if it has one and they are allowed. */
  function transformationOf(connection: StoredConnection): string | undefined {
    const code = connection.config.transformationFunction;
    return transformationsAllowed && typeof code === 'string' && code !== '' ? code : undefined;
  }

  /** A transformation's message with the payload attached, as every webhook notice has it. */
  function transformedContent(
    connection: StoredConnection,
    result: TransformResult,
    payload: unknown,
  ): MessageContent | null {
    if (result.content === null) return null;
    const content = { ...result.content, [WEBHOOK_DATA_KEY]: sanitiseWebhookData(payload) };
    return withHookOptions(content, connection, includeHookBody);
  }

  /** The plain notice of a payload, shaped by the hook's options. */
  function plainContent(connection: StoredConnection, payload: unknown): MessageContent {
    return withHookOptions(webhookMessage(payload), connection, includeHookBody);
  }

  function sendTransformationResponse(res: Response, response: WebhookResponse): void {
    res
      .status(response.statusCode ?? 200)
      .set(TRANSFORMATION_RESPONSE_HEADERS)
      .type(response.contentType ?? 'application/json')
      .send(response.body);
  }

  function postMessage(connection: StoredConnection, content: MessageContent): void {
    messenger.post(connection.roomId, content, (err) => {
      if (err !== null) {
        logger.warn({ connectionId: connection.id, err }, 'could not post a webhook message');
      }
    });
  }

  function reportFailedTransformation(connection: StoredConnection, err: unknown): void {
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

  async function sendWithin(roomId: string, content: MessageContent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendTimeout('no answer')), SEND_TIMEOUT_MS);
    });
    try {
      await Promise.race([messenger.send(roomId, content), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function deliver(req: Request, res: Response, payload: unknown): Promise<void> {
    const raw: unknown = req.params.hookId;
    const hookId = typeof raw === 'string' ? raw : '';
    const connectionId = hooks.connectionOf(hookId);
    const connection = connectionId !== undefined ? deps.connection(connectionId) : undefined;
    if (!connection) {
      res.status(404).json({ ok: false, error: 'Webhook not found' });
      return;
    }
    const expiry = connection.config.expirationDate;
    if (typeof expiry === 'string' && parseExpirationDate(expiry) <= now()) {
      res.status(404).json({ ok: false, error: 'This hook has expired' });
      return;
    }
    if (messenger.backlog >= maxPending) {
      // Shedding load here keeps memory bounded while the homeserver is slow or away.
      res
        .status(503)
        .set('Retry-After', String(BUSY_RETRY_AFTER_S))
        .json({ ok: false, error: 'Too many messages are waiting to be sent; try again later' });
      return;
    }
    const code = transformationOf(connection);
    let transformed: Promise<TransformResult> | undefined;
    if (code !== undefined) {
      try {
        // Queued now, so a hook's calls run, and their messages are posted, in arrival order.
        transformed = runner.run(connection.id, code, payload);
      } catch (err) {
        if (!(err instanceof TransformationBusyError)) throw err;
        res
          .status(503)
          .set('Retry-After', String(BUSY_RETRY_AFTER_S))
          .json({ ok: false, error: 'Too many transformations are waiting; try again later' });
        return;
      }
    }
    const wait = waitGlobally || connection.config.waitForComplete === true;
    if (!wait) {
      res.status(202).json({ ok: true });
      if (transformed === undefined) {
        // Handed over synchronously, so deliveries reach the messenger in their arrival order.
        postMessage(connection, plainContent(connection, payload));
        return;
      }
      transformed
        .then(
          (result) => {
            const content = transformedContent(connection, result, payload);
            if (content !== null) postMessage(connection, content);
          },
          (err: unknown) => reportFailedTransformation(connection, err),
        )
        .catch((err: unknown) => logger.error({ err }, 'webhook delivery failed'));
      return;
    }
    let content: MessageContent | null;
    let response: WebhookResponse | undefined;
    if (transformed === undefined) {
      content = plainContent(connection, payload);
    } else {
      try {
        const result = await transformed;
        content = transformedContent(connection, result, payload);
        response = result.webhookResponse;
      } catch (err) {
        reportFailedTransformation(connection, err);
        res.status(500).json({ ok: false, error: 'Failed to process webhook' });
        return;
      }
    }
    if (content !== null) {
      try {
        await sendWithin(connection.roomId, content);
      } catch (err) {
        logger.warn({ connectionId: connection.id, err }, 'could not post a webhook message');
        res.status(500).json({ ok: false, error: 'Failed to handle webhook' });
        return;
      }
    }
    if (response) {
      sendTransformationResponse(res, response);
      return;
    }
    res.status(200).json({ ok: true });
  }

  router.all('/webhook/:hookId', (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'PUT' || req.method === 'POST') {
      next();
      return;
    }
    if (req.method === 'GET') {
      if (!enableGet) {
        methodNotAllowed(res, 'PUT or POST', 'PUT, POST');
        return;
      }
      void deliver(req, res, { ...req.query }).catch(next);
      return;
    }
    // HEAD is not served: it would deliver the hook's query as GET does, without an answer.
    methodNotAllowed(res, 'PUT, GET or POST', enableGet ? 'GET, PUT, POST' : 'PUT, POST');
  });

  router.all('/webhook/:hookId', ...parsers, (req: Request, res: Response, next: NextFunction) => {
    // A body of a type no parser takes is left undecoded, as hookshot does.
    const payload: unknown = req.body === undefined ? {} : req.body;
    if (nestedDeeperThan(payload, MAX_PAYLOAD_DEPTH)) {
      res.status(400).json({
        ok: false,
        error: `Body nests deeper than ${MAX_PAYLOAD_DEPTH} levels`,
      });
      return;
    }
    deliver(req, res, payload).catch(next);
  });

  router.use(
    '/webhook/:hookId',
    (err: unknown, _req: Request, res: Response, next: NextFunction) => {
      const { status, type } = (typeof err === 'object' && err !== null ? err : {}) as ParserError;
      if (res.headersSent) {
        next(err);
        return;
      }
      if (type === 'entity.too.large') {
        res.status(413).json({ ok: false, error: `Body exceeds the limit of ${limit} bytes` });
        return;
      }
      if (type === 'entity.parse.failed') {
        res.status(400).json({ ok: false, error: 'Could not parse the request body' });
        return;
      }
      if (typeof status === 'number' && status >= 400 && status < 500) {
        res.status(status).json({ ok: false, error: 'Could not read the request body' });
        return;
      }
      logger.error({ err }, 'webhook delivery failed');
      res.status(500).json({ ok: false, error: 'Failed to handle webhook' });
    },
  );

  return router;
}
