import type { Router } from 'express';
import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { BridgePermissions } from '../connections/bridge-permissions';
import type { ConnectionService } from '../connections/connection-service';
import { JIRA_PROJECT } from '../connections/connection-types';
import type { RoomMessenger } from '../connections/room-messenger';
import { namedLogger, type Logger } from '../logging/logger';
import { OauthStore } from '../oauth/oauth-store';
import type { SecretBox } from '../secrets/secret-box';
import { JiraProjectKind } from './jira-project-kind';
import { JiraService } from './jira-service';
import { jiraWebhookRouter } from './jira-webhook';

export interface JiraBridgeDeps {
  config: Config;
  db: Knex;
  secrets: SecretBox;
  logger: Logger;
  connections: ConnectionService;
  messenger: RoomMessenger;
  /** Who may link a JIRA account (hookshot's `login` level for service `jira`). */
  permissions: BridgePermissions;
}

/** JIRA's part of the bridge: the user-facing service, the connection kind and the webhooks. */
export interface JiraBridge {
  service: JiraService;
  /** For the `webhooks` listener: `/jira/webhook`, JIRA's `POST /`, and `/jira/oauth`. */
  webhooks: Router;
}

/** Registers the JIRA project kind and builds JIRA's routers; null when JIRA is not configured. */
export function createJiraBridge(deps: JiraBridgeDeps): JiraBridge | null {
  const { config, db, connections } = deps;
  if (!config.jira) return null;
  const logger = namedLogger(deps.logger, 'bridge.jira');
  const service = new JiraService({
    config,
    db,
    oauth: new OauthStore(db, deps.secrets),
    logger,
    mayLogIn: (userId) => deps.permissions.allows(userId, 'jira', 'login'),
  });
  connections.register(new JiraProjectKind(service));
  const webhooks = jiraWebhookRouter({
    config,
    db,
    jira: service,
    connections: () => connections.ofType(JIRA_PROJECT.eventType),
    messenger: deps.messenger,
    logger,
  });
  return { service, webhooks };
}
