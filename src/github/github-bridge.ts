import type { Router } from 'express';
import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { ConnectionService } from '../connections/connection-service';
import { GITHUB_REPO } from '../connections/connection-types';
import type { RoomMessenger } from '../connections/room-messenger';
import { namedLogger, type Logger } from '../logging/logger';
import { OauthStore } from '../oauth/oauth-store';
import type { SecretBox } from '../secrets/secret-box';
import { GithubRepoKind } from './github-repo-kind';
import { GithubService } from './github-service';
import { githubWebhookRouter } from './github-webhook';

export interface GithubBridgeDeps {
  config: Config;
  db: Knex;
  secrets: SecretBox;
  logger: Logger;
  connections: ConnectionService;
  messenger: RoomMessenger;
}

/** GitHub's part of the bridge: the user-facing service, the repository kind and the webhooks. */
export interface GithubBridge {
  service: GithubService;
  /** For the `webhooks` listener: `/github/webhook`, the old `POST /`, `/oauth`, `/github/oauth`. */
  webhooks: Router;
}

/** Registers the repository kind and builds GitHub's router; null when GitHub is not configured. */
export function createGithubBridge(deps: GithubBridgeDeps): GithubBridge | null {
  const { config, db, connections } = deps;
  if (!config.github) return null;
  const logger = namedLogger(deps.logger, 'bridge.github');
  const service = new GithubService({
    config,
    db,
    oauth: new OauthStore(db, deps.secrets),
    logger,
  });
  connections.register(new GithubRepoKind(service));
  const webhooks = githubWebhookRouter({
    github: service,
    db,
    logger,
    messenger: deps.messenger,
    connections: () => connections.ofType(GITHUB_REPO.eventType),
  });
  return { service, webhooks };
}
