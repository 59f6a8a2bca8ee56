import type { SendConcurrency } from './send-concurrency';

/** Sends one serialised event to a room; resolves with its event id. */
export type SendEvent = (roomId: string, type: string, body: string) => Promise<string>;

/** Called once a message is sent (err null) or given up on. */
export type SendDone = (err: Error | null, eventId?: string) => void;

export interface RoomSendQueueOptions {
  send: SendEvent;
  /** Sends in flight at once, over all rooms: told how each went, it sets the limit. */
  concurrency: SendConcurrency;
  /** Whether a failure says the homeserver is overloaded or away (so fewer sends should run). */
  congested(err: unknown): boolean;
  /** The wait before attempt `attempt + 1` after `err`, or null when the error is final. */
  retryDelay(err: unknown, attempt: number): number | null;
  /** Told of every retry, for the log. */
  retrying?(roomId: string, err: unknown, attempt: number, delayMs: number): void;
}

interface Pending {
  type: string;
  /** The content as JSON text: one flat string per waiting message keeps a long queue cheap. */
  body: string;
  attempt: number;
  done: SendDone | undefined;
}

interface RoomQueue {
  roomId: string;
  items: (Pending | undefined)[];
  /** Index of the oldest waiting item (items before it are sent). */
  head: number;
  /** Sending or waiting to retry: the room's next message must not overtake. */
  busy: boolean;
}

/**
 * Messages waiting for the homeserver, each room's in the order they were queued: one send in
 * flight per room, and over all rooms as many as `concurrency` allows; rooms take turns, so one
 * busy room does not hold up the others. A retryable failure keeps the room's turn (nothing
 * overtakes) but frees the slot while it waits.
 */
export class RoomSendQueue {
  private readonly rooms = new Map<string, RoomQueue>();
  /** Rooms with waiting messages and nothing in flight, in the order they get a slot. */
  private readonly ready = new Set<RoomQueue>();
  private inFlight = 0;
  private waiting = 0;

  constructor(private readonly options: RoomSendQueueOptions) {}

  /** Messages queued and not yet sent or given up on, over all rooms. */
  get backlog(): number {
    return this.waiting;
  }

  /** Queues a message (its content as JSON text); `done` hears how it ended. */
  enqueue(roomId: string, type: string, body: string, done?: SendDone): void {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { roomId, items: [], head: 0, busy: false };
      this.rooms.set(roomId, room);
    }
    room.items.push({ type, body, attempt: 1, done });
    this.waiting++;
    if (!room.busy) this.ready.add(room);
    this.pump();
  }

  private pump(): void {
    const { concurrency } = this.options;
    while (this.inFlight < concurrency.limit && this.ready.size > 0) {
      const room = this.ready.values().next().value!;
      this.ready.delete(room);
      room.busy = true;
      this.inFlight++;
      this.attempt(room, this.inFlight >= concurrency.limit);
    }
  }

  private attempt(room: RoomQueue, saturated: boolean): void {
    const item = room.items[room.head]!;
    const { concurrency } = this.options;
    const ticket = concurrency.begin();
    const started = performance.now();
    // A send that throws at once fails like one that rejects.
    Promise.resolve()
      .then(() => this.options.send(room.roomId, item.type, item.body))
      .then(
        (eventId) => {
          this.inFlight--;
          concurrency.succeeded(ticket, performance.now() - started, saturated);
          this.settle(room, null, eventId);
        },
        (err: unknown) => {
          this.inFlight--;
          if (this.options.congested(err)) concurrency.congested(ticket);
          const delay = this.options.retryDelay(err, item.attempt);
          if (delay === null) {
            this.settle(room, err);
            return;
          }
          this.options.retrying?.(room.roomId, err, item.attempt, delay);
          item.attempt++;
          setTimeout(() => {
            this.ready.add(room);
            this.pump();
          }, delay).unref();
          this.pump();
        },
      );
  }

  /** The room's oldest message is done with: hand the room its next turn, or forget it. */
  private settle(room: RoomQueue, err: unknown, eventId?: string): void {
    const error =
      err === null || err instanceof Error ? err : new Error('the send failed', { cause: err });
    const item = room.items[room.head];
    room.busy = false;
    if (item) {
      room.items[room.head] = undefined;
      room.head++;
      this.waiting--;
    }
    if (room.head >= room.items.length) {
      this.rooms.delete(room.roomId);
    } else {
      // Sent items are dropped in batches rather than shifted off one by one.
      if (room.head >= 1024 && room.head * 2 >= room.items.length) {
        room.items.splice(0, room.head);
        room.head = 0;
      }
      this.ready.add(room);
    }
    item?.done?.(error, eventId);
    this.pump();
  }
}
