import type { Knex } from 'knex';
import type { StoredConnection } from '../bridge/connection-types';
import { notice, type RoomMessenger } from '../bridge/room-messenger';
import { findWebhookHook, setWebhookExpiryNoticeSent } from '../db/webhook-repository';
import type { Logger } from '../logging/logger';
import type { WebhookHooks } from './webhook-hooks';
import { EXPIRY_NOTICE_MS, HOUR_MS, parseExpirationDate } from './webhook-kind';
import { renderMarkdown } from './webhook-message';

export const EXPIRY_CHECK_INTERVAL_MS = 15 * 60_000;
const MAX_JITTER_MS = 60_000;

export interface ExpiryNoticesDeps {
  db: Knex;
  messenger: RoomMessenger;
  /** The webhook connections there are now. */
  connections(): readonly StoredConnection[];
  hooks: WebhookHooks;
  logger: Logger;
  now?: () => number;
}

/** "N hours", the way the expiry notice counts what is left. */
function hoursLeft(ms: number): string {
  const hours = Math.max(0, Math.round(ms / HOUR_MS));
  return hours === 1 ? '1 hour' : `${hours} hours`;
}

/** Tells a room once, when a hook of it has less than 3 days left. */
export class ExpiryNotices {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly deps: ExpiryNoticesDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One check of every hook; concurrent calls share the run. */
  checkNow(): Promise<void> {
    this.running ??= this.check().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(): void {
    const delay = EXPIRY_CHECK_INTERVAL_MS + Math.floor(Math.random() * MAX_JITTER_MS);
    this.timer = setTimeout(() => {
      void this.checkNow().finally(() => {
        if (this.timer) this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const now = this.now();
    for (const connection of this.deps.connections()) {
      const value = connection.config.expirationDate;
      if (typeof value !== 'string') continue;
      const remaining = parseExpirationDate(value) - now;
      // Expired hooks answer 404 already; a warning would come too late.
      if (!(remaining > 0 && remaining < EXPIRY_NOTICE_MS)) continue;
      const hookId = this.deps.hooks.hookOf(connection.id);
      if (hookId === undefined) continue;
      try {
        const hook = await findWebhookHook(this.deps.db, hookId);
        if (!hook || hook.expiryNoticeSent) continue;
        const name = typeof connection.config.name === 'string' ? connection.config.name : '';
        const body = `The webhook **${name}** will be expiring in ${hoursLeft(remaining)}.`;
        // Marked first: a notice that fails is lost, but one never repeats after a restart.
        await setWebhookExpiryNoticeSent(this.deps.db, hookId);
        await this.deps.messenger.send(connection.roomId, notice(body, renderMarkdown(body)));
      } catch (err) {
        this.deps.logger.warn(
          { connectionId: connection.id, err },
          'could not send a webhook expiry notice',
        );
      }
    }
  }
}
