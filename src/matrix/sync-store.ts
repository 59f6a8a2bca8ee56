import { StubStore } from 'matrix-js-sdk/lib/store/stub.js';
import type { SyncGaps } from './catch-up';

export interface SyncPosition {
  nextBatch?: string;
  filterId?: string;
}

const FILTER_NAME_PREFIX = 'FILTER_SYNC_';

/** The parts of a /sync answer the room tracking reads. */
export interface SyncRooms {
  rooms?: {
    join?: Record<string, unknown>;
    invite?: Record<string, { invite_state?: { events?: RawEvent[] } }>;
    leave?: Record<string, { timeline?: { events?: RawEvent[] } }>;
  };
}

export interface RawEvent {
  type?: unknown;
  state_key?: unknown;
  sender?: unknown;
  event_id?: unknown;
  content?: { membership?: unknown; reason?: unknown };
}

/**
 * Keeps no rooms or timelines in memory (an idle bot costs little however busy its rooms are)
 * and hands the sync token and filter id to the owner to persist, so a restart resumes. Each
 * processed sync answer goes to `onSync` with the token it started from (the room lists the
 * client tracks its rooms from, the limited timelines it catches up on).
 */
export class PersistedPositionStore extends StubStore {
  /** Where the sync being processed started (the token before the last one set). */
  private since: string | null = null;

  constructor(
    private token: string | null,
    private filterId: string | null,
    private readonly persist: (position: SyncPosition) => void,
    private readonly onSync: (data: SyncRooms & SyncGaps, since: string | null) => void,
  ) {
    super();
    super.setSyncToken(token ?? '');
  }

  // The SDK hands each answer over once it is processed.
  override setSyncData(data: SyncRooms & SyncGaps): Promise<void> {
    this.onSync(data, this.since);
    return Promise.resolve();
  }

  override getSyncToken(): string | null {
    return this.token;
  }

  override setSyncToken(token: string): void {
    this.since = this.token;
    if (token === this.token) return;
    this.token = token;
    this.persist({ nextBatch: token });
  }

  override getSavedSyncToken(): Promise<string | null> {
    return Promise.resolve(this.token);
  }

  override getFilterIdByName(name: string): string | null {
    return name.startsWith(FILTER_NAME_PREFIX) ? this.filterId : null;
  }

  override setFilterIdByName(name: string, filterId?: string): void {
    if (!name.startsWith(FILTER_NAME_PREFIX) || (filterId ?? null) === this.filterId) return;
    this.filterId = filterId ?? null;
    this.persist({ filterId: filterId ?? '' });
  }

  forget(): void {
    this.token = null;
    this.filterId = null;
    this.persist({ nextBatch: '', filterId: '' });
  }
}
