import type { ClientEvent, Json, StoredEvent } from './room-model';

/**
 * The shapes Synapse serves events in: sync events without `room_id`; history and state reads
 * with `room_id` plus the legacy top-level copies (`user_id`, `age`, `replaces_state`, ...).
 */

/** Events in /sync omit room_id (ClientEventWithoutRoomID). */
export type SyncEvent = Omit<ClientEvent, 'room_id'>;

const ageOf = (s: StoredEvent): number => Math.max(0, Date.now() - s.event.origin_server_ts);

/**
 * A /sync event: `unsigned` has what the replaced state was, its age, the redaction and, for
 * the device that sent it, its transaction id.
 */
export function syncFormat(s: StoredEvent, device: string): SyncEvent {
  const event: Partial<ClientEvent> = { ...s.event };
  delete event.room_id;
  return {
    ...(event as SyncEvent),
    unsigned: {
      ...s.event.unsigned,
      ...(s.redactedBy
        ? {
            redacted_by: s.redactedBy.event.event_id,
            redacted_because: syncFormat(s.redactedBy, device),
          }
        : {}),
      age: ageOf(s),
      ...(s.txn?.device === device ? { transaction_id: s.txn.txnId } : {}),
    },
  };
}

/**
 * /messages and /event ("history") or /state and /members ("state") format. State reads carry
 * `replaces_state` but not the previous content.
 */
export function clientFormat(s: StoredEvent, kind: 'history' | 'state'): Json {
  const e = s.event;
  const unsigned: Json = {};
  const replaces = e.unsigned.replaces_state;
  if (replaces !== undefined) {
    unsigned.replaces_state = replaces;
    if (kind === 'history') {
      unsigned.prev_content = e.unsigned.prev_content;
      unsigned.prev_sender = e.unsigned.prev_sender;
    }
  }
  const because = s.redactedBy ? clientFormat(s.redactedBy, 'history') : undefined;
  if (because) {
    unsigned.redacted_by = s.redactedBy!.event.event_id;
    unsigned.redacted_because = because;
  }
  unsigned.age = ageOf(s);
  return {
    type: e.type,
    room_id: e.room_id,
    sender: e.sender,
    content: e.content,
    ...(e.state_key !== undefined ? { state_key: e.state_key } : {}),
    ...(e.redacts !== undefined ? { redacts: e.redacts } : {}),
    origin_server_ts: e.origin_server_ts,
    unsigned,
    event_id: e.event_id,
    user_id: e.sender,
    age: unsigned.age,
    ...(replaces !== undefined ? { replaces_state: replaces } : {}),
    ...(replaces !== undefined && kind === 'history'
      ? { prev_content: unsigned.prev_content }
      : {}),
    ...(because ? { redacted_because: because } : {}),
  };
}

/** Stripped state as shown to invitees. */
export function strippedFormat(s: StoredEvent): Json {
  return {
    type: s.event.type,
    state_key: s.event.state_key,
    content: s.event.content,
    sender: s.event.sender,
  };
}

// What the redaction algorithm of room versions 6-10 keeps of each event type's content.
const KEPT_CONTENT: Record<string, readonly string[]> = {
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': [
    'ban',
    'events',
    'events_default',
    'kick',
    'redact',
    'state_default',
    'users',
    'users_default',
  ],
  'm.room.history_visibility': ['history_visibility'],
};

export function redactedContent(event: ClientEvent): Json {
  const kept = KEPT_CONTENT[event.type] ?? [];
  return Object.fromEntries(Object.entries(event.content).filter(([key]) => kept.includes(key)));
}
