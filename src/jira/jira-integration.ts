import { JIRA_PROJECT } from '../bridge/connection-types';
import type { BridgeIntegration, IntegrationContext } from '../bridge/integration';
import type { JiraSettings } from '../config/schema';
import { OauthStore } from '../oauth/oauth-store';
import { JiraEvents } from './jira-events';
import { JiraProjectKind } from './jira-project-kind';
import { JiraService } from './jira-service';

/** JIRA's part of the bridge: the user-facing service, the project kind and the webhook events. */
export class JiraRuntime {
  readonly service: JiraService;
  readonly events: JiraEvents;

  constructor(
    { db, secrets, logger, connections, bot }: IntegrationContext,
    settings: JiraSettings,
  ) {
    this.service = new JiraService({
      settings,
      oauth: new OauthStore(db, secrets),
      logger,
      // Who may link a JIRA account: hookshot's `login` level for service `jira`.
      mayLogIn: (userId) => bot.permissions.allows(userId, 'jira', 'login'),
    });
    connections.register(new JiraProjectKind(this.service));
    this.events = new JiraEvents({
      webhookSecret: settings.webhookSecret,
      db,
      connections: () => connections.ofType(JIRA_PROJECT.eventType),
      messenger: bot,
      logger,
    });
  }
}

export const jiraIntegration: BridgeIntegration<JiraSettings, JiraRuntime> = {
  name: 'jira',
  settings: (config) => config.jira,
  create: (context, settings) => new JiraRuntime(context, settings),
};
