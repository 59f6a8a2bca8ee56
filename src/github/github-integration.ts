import { GITHUB_REPO } from '../bridge/connection-types';
import type { BridgeIntegration, IntegrationContext } from '../bridge/integration';
import type { GithubSettings } from '../config/schema';
import { OauthStore } from '../oauth/oauth-store';
import { GithubEvents } from './github-events';
import { GithubRepoKind } from './github-repo-kind';
import { GithubService } from './github-service';

/** GitHub's part of the bridge: the user-facing service, the repository kind and the App's events. */
export class GithubRuntime {
  readonly service: GithubService;
  readonly events: GithubEvents;

  constructor(
    { db, secrets, logger, connections, bot }: IntegrationContext,
    settings: GithubSettings,
  ) {
    this.service = new GithubService({ settings, oauth: new OauthStore(db, secrets), logger });
    connections.register(new GithubRepoKind(this.service));
    this.events = new GithubEvents({
      webhookSecret: settings.webhookSecret,
      db,
      logger,
      messenger: bot,
      connections: () => connections.ofType(GITHUB_REPO.eventType),
    });
  }
}

export const githubIntegration: BridgeIntegration<GithubSettings, GithubRuntime> = {
  name: 'github',
  settings: (config) => config.github,
  create: (context, settings) => new GithubRuntime(context, settings),
};
