import type { Logger } from '../logging/logger';
import type { RoomEvent } from './bot-client';

/** The part of a /sync answer that tells which rooms' timelines were cut short. */
export interface SyncGaps {
  rooms?: {
    join?: Record<string, { timeline?: { limited?: boolean; prev_batch?: string | null } }>;
  };
}

export interface CatchUpDeps {
  emit(event: RoomEvent): void;
  /** The events of a room between two positions (`from` a sync token, `to` a prev_batch), oldest first. */
  fetchGap(roomId: string, from: string, to: string): Promise<RoomEvent[]>;
  logger: Logger;
}

/**
 * Hands a client's events on in each room's order without losing any to a limited timeline: a
 * sync that left events out of a room (more arrived than its timeline limit, e.g. while the
 * client was stopped) has them fetched first, and that room's events wait meanwhile.
 */
export class CatchUp {
  private pending: RoomEvent[] = [];
  /** Rooms whose events wait for a gap to be filled. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: CatchUpDeps) {}

  /** An event of the sync being processed. */
  add(event: RoomEvent): void {
    this.pending.push(event);
  }

  /** The sync that started at `since` is processed; `data` is its answer. */
  synced(data: SyncGaps, since: string | null): void {
    const events = this.pending;
    this.pending = [];
    if (since) {
      for (const [roomId, room] of Object.entries(data.rooms?.join ?? {})) {
        const prevBatch = room.timeline?.prev_batch;
        if (room.timeline?.limited === true && prevBatch) this.fill(roomId, since, prevBatch);
      }
    }
    for (const event of events) {
      const chain = this.chains.get(event.roomId);
      if (chain) this.then(event.roomId, chain, () => this.deps.emit(event));
      else this.deps.emit(event);
    }
  }

  private fill(roomId: string, from: string, to: string): void {
    const { logger } = this.deps;
    const work = async () => {
      try {
        const missed = await this.deps.fetchGap(roomId, from, to);
        logger.info(
          { roomId, events: missed.length },
          'fetched the events a limited sync left out of a room',
        );
        for (const event of missed) this.deps.emit(event);
      } catch (err) {
        logger.warn(
          { err, roomId },
          'could not fetch the events a limited sync left out of a room; they are skipped',
        );
      }
    };
    this.then(roomId, this.chains.get(roomId) ?? Promise.resolve(), work);
  }

  private then(roomId: string, chain: Promise<void>, work: () => void | Promise<void>): void {
    const next = chain.then(work);
    this.chains.set(roomId, next);
    void next.then(() => {
      if (this.chains.get(roomId) === next) this.chains.delete(roomId);
    });
  }
}
