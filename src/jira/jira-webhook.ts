import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Config } from '../config/schema';
import { JIRA_PROJECT, type StoredConnection } from '../bridge/connection-types';
import type { MessageContent, RoomMessenger } from '../bridge/room-messenger';
import { DeliveryIds } from '../bridge/delivery-ids';
import { hubSignatureMatches } from '../net/hub-signature';
import type { Logger } from '../logging/logger';
import {
  issueCreatedNotice,
  issueUpdatedNotice,
  versionNotice,
  type JiraIssueEvent,
} from './jira-notices';
import { projectKeyOf } from './jira-project-kind';
import type { JiraService } from './jira-service';

export interface JiraWebhookDeps {
  config: Config;
  db: Knex;
  jira: JiraService;
  /** The live connections (the connection service's index). */
  connections(): readonly StoredConnection[];
  messenger: RoomMessenger;
  logger: Logger;
}

const DEFAULT_BODY_LIMIT = 1_048_576;

const user = z
  .object({ displayName: z.string().optional(), accountId: z.string().optional() })
  .loose();
const id = z.union([z.string(), z.number()]).transform(String);

const issueEvent = z
  .object({
    user: user.optional(),
    issue: z
      .object({
        id,
        key: z.string().min(1),
        self: z.url(),
        fields: z
          .object({
            summary: z.string().optional(),
            project: z.object({ id, key: z.string().min(1), name: z.string().optional() }).loose(),
            creator: user.nullable().optional(),
            reporter: user.nullable().optional(),
          })
          .loose(),
      })
      .loose(),
    changelog: z
      .object({
        items: z.array(
          z
            .object({
              field: z.string(),
              fromString: z.string().nullable().optional(),
              toString: z.string().nullable().optional(),
            })
            .loose(),
        ),
      })
      .loose()
      .optional(),
  })
  .loose();

const versionEvent = z
  .object({
    version: z
      .object({
        id,
        name: z.string(),
        projectId: id,
        description: z.string().optional(),
        releaseDate: z.string().optional(),
      })
      .loose(),
  })
  .loose();

function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison leaks nothing about the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Whether a `POST /` is JIRA's (cloud sends the identifier header; Server's agent says JIRA). */
function looksLikeJira(req: Request): boolean {
  return (
    req.get('x-atlassian-webhook-identifier') !== undefined ||
    (req.get('user-agent') ?? '').includes('JIRA')
  );
}

const badToken = (res: Response, error: string): void => {
  res.status(401).json({ errcode: 'HS_BAD_TOKEN', error });
};

function eventsOf(connection: StoredConnection): readonly string[] {
  const events = connection.config.events;
  return Array.isArray(events)
    ? (events as unknown[]).filter((e) => typeof e === 'string')
    : ['issue_created'];
}

function urlOf(connection: StoredConnection): URL | null {
  const url = connection.config.url;
  if (typeof url !== 'string') return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * JIRA's webhooks (`POST /jira/webhook`, and `POST /` when it is JIRA's) and the OAuth callback
 * (`GET /jira/oauth`), for the webhooks listener.
 */
export function jiraWebhookRouter(deps: JiraWebhookDeps): Router {
  const { logger } = deps;
  const router = Router();
  const deliveries = new DeliveryIds(deps.db, 'jira');
  const raw = express.raw({
    type: () => true,
    limit: deps.config.webhooks?.maxBodyBytes ?? DEFAULT_BODY_LIMIT,
  });

  router.get('/jira/oauth', async (req: Request, res: Response) => {
    const result = await deps.jira.handleOauthCallback(req.query);
    if (result.json) res.status(result.status).json(result.json);
    else
      res
        .status(result.status)
        .type('html')
        .send(result.html ?? '');
  });

  const receive = async (req: Request, res: Response): Promise<void> => {
    const secret = deps.config.jira?.webhookSecret;
    if (!secret) {
      res.status(404).json({ errcode: 'HS_NOTFOUND', error: 'JIRA is not configured' });
      return;
    }
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const querySecret = req.query.secret;
    const signature = req.get('x-hub-signature');
    if (typeof querySecret === 'string') {
      if (!sameSecret(querySecret, secret)) return badToken(res, 'Invalid secret');
    } else if (signature !== undefined) {
      if (!hubSignatureMatches(signature, body, secret))
        return badToken(res, 'Signature did not match');
    } else {
      return badToken(res, 'Invalid secret');
    }

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      res.status(400).json({ errcode: 'HS_BAD_VALUE', error: 'Body is not valid JSON' });
      return;
    }

    const delivery = req.get('x-atlassian-webhook-identifier');
    if (delivery !== undefined && delivery !== '') {
      try {
        if (!(await deliveries.firstTime(delivery))) {
          logger.debug({ delivery }, 'JIRA webhook redelivered; ignored');
          res.status(200).send('OK');
          return;
        }
      } catch (err) {
        // Unrecorded means it could be posted twice later; a 500 makes JIRA retry instead.
        logger.error({ err, delivery }, 'could not record a JIRA webhook delivery');
        res.status(500).json({ errcode: 'HS_UNKNOWN', error: 'An internal error occurred' });
        return;
      }
    }
    res.status(200).send('OK');
    dispatch(deps, payload, delivery);
  };

  router.post('/jira/webhook', raw, receive);
  router.post('/', (req: Request, res: Response, next: NextFunction) => {
    if (!looksLikeJira(req)) {
      next();
      return;
    }
    raw(req, res, (err?: unknown) => {
      if (err) {
        next(err);
        return;
      }
      receive(req, res).catch(next);
    });
  });
  // JIRA and browsers get a JSON answer, never the default HTML error page.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status =
      typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
        ? err.status
        : 500;
    if (status === 413) {
      res.status(413).json({ errcode: 'HS_BAD_VALUE', error: 'Request body is too large' });
    } else if (status >= 400 && status < 500) {
      res.status(400).json({ errcode: 'HS_BAD_VALUE', error: 'Request body could not be read' });
    } else {
      logger.error({ err }, 'JIRA webhook route failed');
      res.status(500).json({ errcode: 'HS_UNKNOWN', error: 'An internal error occurred' });
    }
  });
  return router;
}

/** Posts the event's notices to every connection it concerns (after JIRA got its answer). */
function dispatch(deps: JiraWebhookDeps, payload: unknown, delivery: string | undefined): void {
  const { logger } = deps;
  const eventName =
    typeof payload === 'object' && payload !== null && 'webhookEvent' in payload
      ? String(payload.webhookEvent).replace(/^jira:/, '')
      : '';
  const messages: { roomId: string; content: MessageContent }[] = [];
  const jiraConnections = deps
    .connections()
    .filter((c) => c.eventType === JIRA_PROJECT.eventType && eventsOf(c).includes(eventName));

  if (eventName === 'issue_created' || eventName === 'issue_updated') {
    const parsed = issueEvent.safeParse(payload);
    if (!parsed.success) {
      logger.info({ delivery, eventName }, 'JIRA issue event without the expected fields; ignored');
      return;
    }
    const event = parsed.data as JiraIssueEvent;
    const { project } = event.issue.fields;
    const site = new URL(event.issue.self).host;
    const content =
      eventName === 'issue_created' ? issueCreatedNotice(event) : issueUpdatedNotice(event);
    for (const c of jiraConnections) {
      const url = urlOf(c);
      const byId = typeof c.config.id === 'string' && c.config.id === project.id;
      const byKey = url !== null && url.host === site && projectKeyOf(url) === project.key;
      if (byId || byKey) messages.push({ roomId: c.roomId, content });
    }
  } else if (eventName.startsWith('version_')) {
    const action = eventName.slice('version_'.length);
    if (action !== 'created' && action !== 'updated' && action !== 'released') return;
    const parsed = versionEvent.safeParse(payload);
    if (!parsed.success) {
      logger.info(
        { delivery, eventName },
        'JIRA version event without the expected fields; ignored',
      );
      return;
    }
    const { version } = parsed.data;
    for (const c of jiraConnections) {
      const url = urlOf(c);
      // Version payloads name the project only by id.
      if (url === null || c.config.id !== version.projectId) continue;
      messages.push({
        roomId: c.roomId,
        content: versionNotice(action, version, {
          key: projectKeyOf(url),
          url: url.toString(),
        }),
      });
    }
  } else {
    logger.debug({ delivery, eventName }, 'JIRA webhook event not handled');
    return;
  }

  for (const m of messages) {
    deps.messenger.send(m.roomId, m.content).catch((err: unknown) => {
      logger.warn({ err, roomId: m.roomId, delivery }, 'could not post a JIRA notice');
    });
  }
}
