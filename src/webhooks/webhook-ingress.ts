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
import { TransformationError, type TransformationRunner } from './transformation';
import { parseExpirationDate } from './webhook-kind';
import type { WebhookHooks } from './webhook-hooks';
import { WEBHOOK_DATA_KEY, webhookMessage } from './webhook-message';

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

const JSON_TYPES = ['application/json', 'application/*+json'];
const FORM_TYPES = ['application/x-www-form-urlencoded'];
// XML goes first, so text/xml is parsed as XML rather than taken as text (as hookshot does).
const XML_TYPES = ['*/xml', '*/*+xml'];
const TEXT_TYPES = ['text/*'];
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

function methodNotAllowed(res: Response, expecting: string): void {
  res.status(405).json({
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

  /** The message for a payload; throws TransformationError when the hook's function fails. */
  function messageFor(
    connection: StoredConnection,
    payload: unknown,
  ): {
    content: MessageContent | null;
    response?: { body: string; contentType?: string; statusCode?: number };
  } {
    const code = connection.config.transformationFunction;
    if (typeof code !== 'string' || !transformationsAllowed) {
      return { content: withHookOptions(webhookMessage(payload), connection, includeHookBody) };
    }
    const result = runner.run(code, payload);
    return {
      content: result.content && withHookOptions(result.content, connection, includeHookBody),
      ...(result.webhookResponse ? { response: result.webhookResponse } : {}),
    };
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
    const wait = waitGlobally || connection.config.waitForComplete === true;
    if (!wait) {
      res.status(202).json({ ok: true });
      // Handed over synchronously, so deliveries reach the messenger in their arrival order.
      let content: MessageContent | null;
      try {
        content = messageFor(connection, payload).content;
      } catch (err) {
        reportFailedTransformation(connection, err);
        return;
      }
      if (content === null) return;
      messenger.post(connection.roomId, content, (err) => {
        if (err !== null) {
          logger.warn({ connectionId: connection.id, err }, 'could not post a webhook message');
        }
      });
      return;
    }
    let message: ReturnType<typeof messageFor>;
    try {
      message = messageFor(connection, payload);
    } catch (err) {
      reportFailedTransformation(connection, err);
      res.status(500).json({ ok: false, error: 'Failed to process webhook' });
      return;
    }
    if (message.content !== null) {
      try {
        await sendWithin(connection.roomId, message.content);
      } catch (err) {
        logger.warn({ connectionId: connection.id, err }, 'could not post a webhook message');
        res.status(500).json({ ok: false, error: 'Failed to handle webhook' });
        return;
      }
    }
    if (message.response) {
      res
        .status(message.response.statusCode ?? 200)
        .type(message.response.contentType ?? 'text/plain')
        .send(message.response.body);
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
        methodNotAllowed(res, 'PUT or POST');
        return;
      }
      void deliver(req, res, { ...req.query }).catch(next);
      return;
    }
    methodNotAllowed(res, 'PUT, GET or POST');
  });

  router.all('/webhook/:hookId', ...parsers, (req: Request, res: Response, next: NextFunction) => {
    // A body of a type no parser takes is left undecoded, as hookshot does.
    const payload: unknown = req.body === undefined ? {} : req.body;
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
      if (err instanceof TransformationError) {
        res.status(500).json({ ok: false, error: 'Failed to process webhook' });
        return;
      }
      logger.error({ err }, 'webhook delivery failed');
      res.status(500).json({ ok: false, error: 'Failed to handle webhook' });
    },
  );

  return router;
}
