/**
 * The test homeserver's rooms: events in stream order and the current state, with each state
 * event linked to the one it replaced so that the state at any earlier position can be read.
 */

export type Json = Record<string, unknown>;

export interface ClientEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  /** Room versions up to 10 carry the redacted event id at the top level. */
  redacts?: string;
  room_id: string;
  unsigned: Record<string, unknown>;
}

export interface StoredEvent {
  /** Position in the server-wide stream (sync and pagination tokens count these). */
  pos: number;
  event: ClientEvent;
  /** Set for events sent with a transaction id, so only that device sees `transaction_id`. */
  txn?: { device: string; txnId: string };
  /** The state event this one replaced (same type and state key). */
  replaced?: StoredEvent;
  /** The m.room.redaction that redacted this event. */
  redactedBy?: StoredEvent;
}

export interface Room {
  roomId: string;
  events: StoredEvent[];
  state: Map<string, StoredEvent>;
  byId: Map<string, StoredEvent>;
  /** Notifying messages per member since their latest join (no read receipts here). */
  unread: Map<string, number>;
}

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }
}

export const forbidden = (message: string): MatrixError =>
  new MatrixError(403, 'M_FORBIDDEN', message);

export const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const stateKeyOf = (type: string, stateKey: string): string => `${type}\u0000${stateKey}`;

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}

/** The state event for this key as it was right after stream position `pos`. */
export function stateEventAt(room: Room, key: string, pos: number): StoredEvent | undefined {
  let s = room.state.get(key);
  while (s && s.pos > pos) s = s.replaced;
  return s;
}

/** The whole room state as it was right after stream position `pos`. */
export function stateAt(room: Room, pos: number): Map<string, StoredEvent> {
  const result = new Map<string, StoredEvent>();
  for (const key of room.state.keys()) {
    const s = stateEventAt(room, key, pos);
    if (s) result.set(key, s);
  }
  return result;
}

export function membershipOf(room: Room, userId: string): string | undefined {
  const content = room.state.get(stateKeyOf('m.room.member', userId))?.event.content;
  return typeof content?.membership === 'string' ? content.membership : undefined;
}

export function membershipAt(room: Room, userId: string, pos: number): string | undefined {
  const content = stateEventAt(room, stateKeyOf('m.room.member', userId), pos)?.event.content;
  return typeof content?.membership === 'string' ? content.membership : undefined;
}

/** A room's events after a stream position; events are in position order, so from the end. */
export function eventsAfter(room: Room, since: number): StoredEvent[] {
  let start = room.events.length;
  while (start > 0 && room.events[start - 1]!.pos > since) start--;
  return room.events.slice(start);
}

/** Members with this membership now. */
export function membersWith(room: Room, membership: string): string[] {
  const users: string[] = [];
  for (const s of room.state.values()) {
    if (s.event.type === 'm.room.member' && s.event.content.membership === membership) {
      users.push(s.event.state_key!);
    }
  }
  return users;
}

export function powerLevels(room: Room): Json {
  const event = room.state.get(stateKeyOf('m.room.power_levels', ''));
  if (event) return event.event.content;
  // Without a power levels event the creator has 100 and everything else needs 0 (spec).
  const creator = room.state.get(stateKeyOf('m.room.create', ''))?.event.sender;
  return { users: creator ? { [creator]: 100 } : {}, state_default: 0, events_default: 0 };
}

export function userLevel(levels: Json, userId: string): number {
  const users = isObject(levels.users) ? levels.users : {};
  return numberOr(users[userId], numberOr(levels.users_default, 0));
}

/** The level needed to send an event of this type (state or not). */
export function sendLevel(levels: Json, type: string, isState: boolean): number {
  const events = isObject(levels.events) ? levels.events : {};
  const fallback = isState
    ? numberOr(levels.state_default, 50)
    : numberOr(levels.events_default, 0);
  return numberOr(events[type], fallback);
}
