import type { Knex } from 'knex';
import { z } from 'zod';
import { JIRA_PROJECT, type StoredConnection } from '../bridge/connection-types';
import type { MessageContent, RoomMessenger } from '../bridge/room-messenger';
import {
  jsonOf,
  SignedEvents,
  type EventOutcome,
  type SignedDelivery,
} from '../bridge/signed-events';
import type { Logger } from '../logging/logger';
import {
  issueCreatedNotice,
  issueUpdatedNotice,
  versionNotice,
  type JiraIssueEvent,
} from './jira-notices';
import { projectKeyOf } from './jira-project-kind';

export interface JiraEventsDeps {
  /** undefined when JIRA's webhooks are not configured. */
  webhookSecret: string | undefined;
  db: Knex;
  /** The live connections (the connection service's index). */
  connections(): readonly StoredConnection[];
  messenger: RoomMessenger;
  logger: Logger;
}

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

/** JIRA webhook deliveries: authenticated, de-duplicated, then posted to project connections. */
export class JiraEvents {
  private readonly signed: SignedEvents;

  constructor(private readonly deps: JiraEventsDeps) {
    this.signed = new SignedEvents(deps.db, 'jira', deps.logger);
  }

  receive(delivery: SignedDelivery): Promise<EventOutcome> {
    return this.signed.receive<unknown>(delivery, {
      secret: this.deps.webhookSecret,
      querySecret: true,
      parse: (body) => {
        const payload = jsonOf(body);
        return payload === undefined ? { malformed: 'Body is not valid JSON' } : { event: payload };
      },
      dispatch: (payload) => {
        dispatch(this.deps, payload, delivery.deliveryId);
        return Promise.resolve();
      },
    });
  }
}

/** Posts the event's notices to every connection it concerns (after JIRA got its answer). */
function dispatch(deps: JiraEventsDeps, payload: unknown, delivery: string | undefined): void {
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
