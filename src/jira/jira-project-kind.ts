import { badValue, ConnectionError } from '../bridge/connection-errors';
import {
  JIRA_PROJECT,
  type ConnectionKind,
  type CreateInput,
  type PreparedConnection,
  type UpdateInput,
} from '../bridge/connection-types';
import type { JiraService } from './jira-service';
import { parseHttpUrl } from '../util/http-url';

export const JIRA_EVENTS = [
  'issue_created',
  'issue_updated',
  'version_created',
  'version_updated',
  'version_released',
] as const;
export type JiraEventName = (typeof JIRA_EVENTS)[number];

/** The state content of a JIRA project connection. */
export interface JiraProjectConfig {
  url: string;
  id?: string;
  commandPrefix?: string;
  events: JiraEventName[];
  priority?: number;
}

/** hookshot's checks of a JIRA project state, with its messages. */
export function validateJiraProjectConfig(body: Record<string, unknown>): JiraProjectConfig {
  const { url, id, commandPrefix, events, priority } = body;
  if (url === undefined) throw badValue("Expected 'url' to be a string");
  // hookshot only checked presence and then failed with a 500 on a non-URL; refuse both here.
  if (typeof url !== 'string') throw badValue("Expected 'url' to be a string");
  if (id !== undefined && typeof id !== 'string') throw badValue("Expected 'id' to be a string");
  if (commandPrefix !== undefined) {
    if (typeof commandPrefix !== 'string') {
      throw badValue("Expected 'commandPrefix' to be a string");
    }
    if (commandPrefix.length < 2 || commandPrefix.length > 24) {
      throw badValue("Expected 'commandPrefix' to be between 2-24 characters");
    }
  }
  let eventList: JiraEventName[];
  // Missing events, and the legacy dotted names, mean the old default.
  if (events === undefined || (Array.isArray(events) && events[0] === 'issue.created')) {
    eventList = ['issue_created'];
  } else if (
    Array.isArray(events) &&
    events.every((e): e is JiraEventName => (JIRA_EVENTS as readonly unknown[]).includes(e))
  ) {
    eventList = [...events];
  } else {
    throw badValue(`'events' can only contain ${JIRA_EVENTS.join(', ')}`);
  }
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isFinite(priority))) {
    throw badValue("Expected 'priority' to be a number");
  }
  return {
    url,
    ...(id !== undefined ? { id } : {}),
    ...(commandPrefix !== undefined ? { commandPrefix } : {}),
    events: eventList,
    ...(priority !== undefined ? { priority } : {}),
  };
}

/** The project key of a connection URL: its last path segment, uppercased ("" when none). */
export function projectKeyOf(url: URL): string {
  return (url.pathname.split('/').pop() ?? '').toUpperCase();
}

function parseUrl(url: string): URL {
  const parsed = parseHttpUrl(url);
  if (!(parsed instanceof URL)) throw badValue("Expected 'url' to be a valid JIRA project URL");
  return parsed;
}

/**
 * JIRA project connections. Creating one needs the user's JIRA Cloud login and access to the
 * project; the project id is always stored so version events (routed by id) reach the room.
 */
export class JiraProjectKind implements ConnectionKind {
  readonly declaration = JIRA_PROJECT;
  readonly tombstone = { disabled: true };
  readonly defaultCommandPrefix = '!jira';

  constructor(private readonly jira: JiraService) {}

  async create({ userId, body }: CreateInput): Promise<PreparedConnection> {
    const config = validateJiraProjectConfig(body);
    const id = await this.lookUpProject(userId, config.url);
    return { stateKey: config.url, config: { ...config, id } };
  }

  async update({ userId, current, body }: UpdateInput): Promise<PreparedConnection> {
    const config = validateJiraProjectConfig({ ...current.config, ...body });
    // The URL is the state key: a different project is a different connection.
    if (config.url !== current.stateKey) {
      throw badValue("The 'url' of a JIRA project connection cannot be changed");
    }
    if (config.id === undefined) {
      // As hookshot: fill in the id when this user can look it up, else leave it out.
      const id = await this.lookUpProject(userId, config.url).catch(() => undefined);
      if (id !== undefined) config.id = id;
    }
    return { stateKey: current.stateKey, config: { ...config } };
  }

  /** The id of the project at `url`, checked with the user's login. */
  private async lookUpProject(userId: string, url: string): Promise<string> {
    const parsed = parseUrl(url);
    if (!this.jira.oauthEnabled) {
      throw new ConnectionError('HS_DISABLED_FEATURE', 'JIRA OAuth is disabled.');
    }
    const resources = await this.jira.accessibleResources(userId);
    if (!resources) {
      throw new ConnectionError('HS_FORBIDDEN_USER', 'User is not authenticated with JIRA');
    }
    const resource = resources.find((r) => originOf(r.url) === parsed.origin);
    if (!resource) {
      throw new ConnectionError(
        'HS_FORBIDDEN_USER',
        'User is not authenticated with this JIRA instance',
      );
    }
    const key = projectKeyOf(parsed);
    if (key === '') throw badValue('URL did not contain a valid project key');
    const project = await this.jira.project(userId, resource, key);
    if (!project) throw new ConnectionError('HS_FORBIDDEN_USER', 'Requested project was not found');
    return project.id;
  }
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
