import { createHash, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger';
import { hubSignatureMatches } from '../net/hub-signature';
import { DeliveryIds } from './delivery-ids';

/** One webhook delivery from GitHub or JIRA as it arrived, before anything in it is trusted. */
export interface SignedDelivery {
  body: Buffer;
  /** `sha256=<hex HMAC-SHA256 of the body>` (GitHub's X-Hub-Signature-256, JIRA's X-Hub-Signature). */
  signature?: string | undefined;
  /** The shared secret in the URL (`?secret=`), where the service allows it. */
  querySecret?: string | undefined;
  /** The sender's id of this delivery: a redelivery carries the same one. */
  deliveryId?: string | undefined;
}

/** How a delivery was received; the ingress layer decides what the sender is answered. */
export type EventOutcome =
  | { kind: 'accepted' }
  | { kind: 'redelivered' }
  | { kind: 'unauthenticated'; reason: 'badSignature' | 'badSecret' }
  | { kind: 'malformed'; message: string }
  | { kind: 'notConfigured' };

export interface EventSource<T> {
  /** The shared secret; undefined when the service is not configured for webhooks. */
  secret: string | undefined;
  /** Whether `?secret=` authenticates too (JIRA Server cannot sign). */
  querySecret: boolean;
  /** The event out of an authenticated body, or why it is not one. */
  parse(body: Buffer): { event: T } | { malformed: string };
  /** Posts the event's notices; runs after the sender has its answer. */
  dispatch(event: T): Promise<void>;
}

/**
 * The part of receiving signed webhooks GitHub and JIRA share: the signature (or secret) check,
 * the delivery ids already handled (in the database, so redeliveries are ignored across
 * restarts and replicas), and the notices posted after the answer, as senders wait only seconds.
 */
export class SignedEvents {
  private readonly deliveries: DeliveryIds;

  constructor(
    db: Knex,
    private readonly service: 'github' | 'jira',
    private readonly logger: Logger,
    now?: () => number,
  ) {
    this.deliveries = new DeliveryIds(db, service, now);
  }

  /** Throws when the delivery store fails: unrecorded, a delivery could be posted twice later. */
  async receive<T>(delivery: SignedDelivery, source: EventSource<T>): Promise<EventOutcome> {
    if (source.secret === undefined) return { kind: 'notConfigured' };
    const refused = this.authenticate(delivery, source.secret, source.querySecret);
    if (refused) {
      this.logger.warn(
        { delivery: delivery.deliveryId, service: this.service, reason: refused },
        'webhook delivery refused: bad signature or secret',
      );
      return { kind: 'unauthenticated', reason: refused };
    }
    const parsed = source.parse(delivery.body);
    if ('malformed' in parsed) return { kind: 'malformed', message: parsed.malformed };
    const id = delivery.deliveryId;
    if (id !== undefined && id !== '' && !(await this.deliveries.firstTime(id))) {
      this.logger.debug({ delivery: id, service: this.service }, 'redelivery ignored');
      return { kind: 'redelivered' };
    }
    setImmediate(() => {
      source.dispatch(parsed.event).catch((err: unknown) => {
        this.logger.error({ err, delivery: id, service: this.service }, 'event dispatch failed');
      });
    });
    return { kind: 'accepted' };
  }

  private authenticate(
    delivery: SignedDelivery,
    secret: string,
    querySecret: boolean,
  ): 'badSignature' | 'badSecret' | undefined {
    if (querySecret && delivery.querySecret !== undefined) {
      return sameSecret(delivery.querySecret, secret) ? undefined : 'badSecret';
    }
    if (delivery.signature !== undefined) {
      return hubSignatureMatches(delivery.signature, delivery.body, secret)
        ? undefined
        : 'badSignature';
    }
    return querySecret ? 'badSecret' : 'badSignature';
  }
}

function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison leaks nothing about the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A JSON body, or undefined when it is not JSON. */
export function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
