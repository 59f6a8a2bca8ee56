import type { Knex } from 'knex';
import { GITHUB_REPO, type StoredConnection } from '../bridge/connection-types';
import type { RoomMessenger } from '../bridge/room-messenger';
import {
  jsonOf,
  SignedEvents,
  type EventOutcome,
  type SignedDelivery,
} from '../bridge/signed-events';
import type { Logger } from '../logging/logger';
import { githubNotice } from './github-notices';
import type { GithubRepoConfig } from './github-repo-config';
import { messageOf } from './github-requests';

export interface GithubEventsDeps {
  webhookSecret: string;
  db: Knex;
  logger: Logger;
  messenger: RoomMessenger;
  /** The connections known now (the connection service's index). */
  connections(): readonly StoredConnection[];
}

/** A GitHub App webhook delivery: the signed body and GitHub's headers. */
export interface GithubDelivery extends SignedDelivery {
  /** X-GitHub-Event. */
  event?: string | undefined;
}

interface GithubEvent {
  name: string;
  payload: Record<string, unknown>;
  deliveryId: string;
}

/** GitHub App webhook deliveries: verified, de-duplicated, then routed to repository connections. */
export class GithubEvents {
  private readonly signed: SignedEvents;

  constructor(private readonly deps: GithubEventsDeps) {
    this.signed = new SignedEvents(deps.db, 'github', deps.logger);
  }

  receive(delivery: GithubDelivery): Promise<EventOutcome> {
    return this.signed.receive<GithubEvent>(delivery, {
      secret: this.deps.webhookSecret,
      querySecret: false,
      parse: (body) => {
        const payload = jsonOf(body);
        const { event, deliveryId } = delivery;
        if (!event || !deliveryId || typeof payload !== 'object' || payload === null) {
          return {
            malformed: 'A delivery needs X-GitHub-Event, X-GitHub-Delivery and a JSON object body',
          };
        }
        return { event: { name: event, payload: payload as Record<string, unknown>, deliveryId } };
      },
      dispatch: (event) => this.route(event),
    });
  }

  /** Posts the event's notice to every connection of its repository. */
  private async route({ name, payload, deliveryId }: GithubEvent): Promise<void> {
    const repository = payload.repository;
    const fullName =
      typeof repository === 'object' && repository !== null && 'full_name' in repository
        ? repository.full_name
        : undefined;
    if (typeof fullName !== 'string') return;
    const target = fullName.toLowerCase();
    const matching = this.deps
      .connections()
      .filter(
        (c) =>
          c.eventType === GITHUB_REPO.eventType &&
          typeof c.config.org === 'string' &&
          typeof c.config.repo === 'string' &&
          `${c.config.org}/${c.config.repo}`.toLowerCase() === target,
      );
    await Promise.all(
      matching.map(async (c) => {
        const content = githubNotice(name, payload, c.config as GithubRepoConfig);
        if (!content) return;
        try {
          await this.deps.messenger.send(c.roomId, content);
        } catch (err) {
          this.deps.logger.warn(
            { err: messageOf(err), roomId: c.roomId, delivery: deliveryId },
            'Could not post a GitHub notice',
          );
        }
      }),
    );
  }
}
