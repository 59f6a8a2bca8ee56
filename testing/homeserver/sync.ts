import { strippedFormat, syncFormat } from './event-format';
import { defaultPushRules } from './push-rules';
import {
  eventsAfter,
  isObject,
  MatrixError,
  membersWith,
  membershipAt,
  numberOr,
  stateAt,
  stateEventAt,
  stateKeyOf,
  type Json,
  type Room,
  type StoredEvent,
} from './room-model';

/**
 * /sync as Synapse 1.67 computes it (see README.md for the rules and the recorded answers they
 * come from): which rooms appear, which events go into `timeline` and which into `state`, and
 * the lazy-loading of members.
 */

const DEFAULT_TIMELINE_LIMIT = 10;
// Stripped state shown to invitees (Synapse's room_prejoin_state default), in this order.
const PREJOIN_STATE_TYPES = [
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.encryption',
  'm.room.name',
  'm.room.create',
  'm.room.topic',
];

export interface SyncFilter {
  limit: number;
  /** Whether an event passes the room timeline filter. */
  timeline: (event: StoredEvent) => boolean;
  lazyLoadMembers: boolean;
  includeRedundantMembers: boolean;
}

const invalidFilter = () => new MatrixError(400, 'M_UNKNOWN', 'Invalid filter JSON');

function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidFilter();
  return value;
}

function section(value: unknown): Json {
  if (value === undefined) return {};
  if (!isObject(value)) throw invalidFilter();
  return value;
}

/** `*` matches any run of characters, as in filter type lists. */
const globMatch = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);

/** A room event filter's `senders`, `not_senders`, `types` and `not_types` as a predicate. */
export function eventFilter(part: Json): (event: StoredEvent) => boolean {
  const senders = stringList(part.senders);
  const notSenders = stringList(part.not_senders) ?? [];
  const types = stringList(part.types);
  const notTypes = stringList(part.not_types) ?? [];
  return ({ event }) =>
    !notSenders.includes(event.sender) &&
    (senders === undefined || senders.includes(event.sender)) &&
    !notTypes.some((p) => globMatch(p, event.type)) &&
    (types === undefined || types.some((p) => globMatch(p, event.type)));
}

/** Checks a filter definition as Synapse's schema does (the parts used here) and reads it. */
export function parseFilter(definition: Json): SyncFilter {
  const room = section(definition.room);
  const timeline = section(room.timeline);
  const state = section(room.state);
  section(definition.presence);
  section(definition.account_data);
  if (timeline.limit !== undefined && !Number.isInteger(timeline.limit)) throw invalidFilter();
  for (const flag of ['lazy_load_members', 'include_redundant_members']) {
    for (const part of [timeline, state]) {
      if (part[flag] !== undefined && typeof part[flag] !== 'boolean') throw invalidFilter();
    }
  }
  const passes = eventFilter(timeline);
  for (const part of [state, room]) {
    for (const key of ['senders', 'not_senders', 'types', 'not_types', 'rooms', 'not_rooms']) {
      stringList(part[key]);
    }
  }
  return {
    limit: Math.max(1, numberOr(timeline.limit, DEFAULT_TIMELINE_LIMIT)),
    timeline: passes,
    lazyLoadMembers: state.lazy_load_members === true,
    includeRedundantMembers: state.include_redundant_members === true,
  };
}

export interface SyncRequest {
  userId: string;
  /** `userId|deviceId`: own events carry their transaction id to this device only. */
  device: string;
  since: number | undefined;
  fullState: boolean;
  filter: SyncFilter;
}

export interface SyncContext {
  rooms: Iterable<Room>;
  /** The current stream position. */
  stream: number;
  /** Lazy-loaded member events already sent to a device: user id → event id. */
  memberCache(device: string): Map<string, string>;
}

const token = (pos: number) => `s${pos}`;
const isMember = (s: StoredEvent) => s.event.type === 'm.room.member';

/** The answer to one /sync request; `hasData` says whether a long-poll may return it. */
export function computeSync(ctx: SyncContext, req: SyncRequest): { hasData: boolean; body: Json } {
  const { userId, since } = req;
  const join: Json = {};
  const invite: Json = {};
  const leave: Json = {};
  for (const room of ctx.rooms) {
    const member = room.state.get(stateKeyOf('m.room.member', userId));
    if (!member) continue;
    const membership = member.event.content.membership;
    const before = since === undefined ? undefined : membershipAt(room, userId, since);
    const changes = since === undefined ? [] : ownMemberEventsAfter(room, userId, since);
    // Any leave or ban since the last sync shows in `leave` (up to the last one), even when the
    // user was invited or joined again since.
    const isLeave = (s: StoredEvent) =>
      s.event.content.membership === 'leave' || s.event.content.membership === 'ban';
    const left = changes.filter(isLeave).at(-1);
    if (since !== undefined && left) {
      const entry = leftRoom(ctx, req, room, since, left.pos);
      if (entry) leave[room.roomId] = entry;
    }
    if (membership === 'join') {
      // A room joined (or left and joined again) since the last sync is sent as if it were an
      // initial sync.
      const newlyJoined =
        since !== undefined &&
        (before !== 'join' || changes.some((s) => s.event.content.membership !== 'join'));
      const roomSince = newlyJoined ? undefined : since;
      const lastPos = room.events[room.events.length - 1]?.pos ?? 0;
      if (roomSince !== undefined && !req.fullState && lastPos <= roomSince) continue;
      const entry = joinedRoom(ctx, req, room, roomSince);
      if (entry) join[room.roomId] = entry;
    } else if (membership === 'invite') {
      if (since !== undefined && member.pos <= since) continue;
      invite[room.roomId] = { invite_state: { events: inviteState(room, member, req.device) } };
    }
  }
  const rooms: Json = {};
  if (Object.keys(join).length > 0) rooms.join = join;
  if (Object.keys(invite).length > 0) rooms.invite = invite;
  if (Object.keys(leave).length > 0) rooms.leave = leave;
  const hasData = Object.keys(rooms).length > 0;
  return {
    hasData,
    body: {
      next_batch: token(ctx.stream),
      ...(since === undefined
        ? {
            account_data: { events: [{ type: 'm.push_rules', content: defaultPushRules(userId) }] },
          }
        : {}),
      device_one_time_keys_count: { signed_curve25519: 0 },
      'org.matrix.msc2732.device_unused_fallback_key_types': [],
      device_unused_fallback_key_types: [],
      ...(hasData ? { rooms } : {}),
    },
  };
}

/** The user's own membership events after a stream position, oldest first. */
function ownMemberEventsAfter(room: Room, userId: string, since: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (
    let s = room.state.get(stateKeyOf('m.room.member', userId));
    s && s.pos > since;
    s = s.replaced
  ) {
    events.unshift(s);
  }
  return events;
}

interface Timeline {
  events: StoredEvent[];
  limited: boolean;
}

function timelineOf(ctx: SyncContext, req: SyncRequest, room: Room, roomSince?: number): Timeline {
  const { filter } = req;
  if (roomSince === undefined) {
    const loaded = room.events.filter(filter.timeline);
    // A newly joined room: the events since the last sync come again after the recent ones
    // (so an unfiltered own join is listed twice), as Synapse does.
    const repeated =
      req.since !== undefined ? eventsAfter(room, req.since).filter(filter.timeline) : [];
    const all = loaded.concat(repeated);
    // A newly joined room's timeline is always `limited`.
    return {
      events: all.slice(-filter.limit),
      limited: req.since !== undefined || loaded.length > filter.limit,
    };
  }
  const candidates = eventsAfter(room, roomSince).filter(filter.timeline);
  return { events: candidates.slice(-filter.limit), limited: candidates.length > filter.limit };
}

/**
 * The `state` block: for a full-state room, the state at the start of the timeline (and at its
 * end) minus what the timeline holds; for a gappy sync, what changed in the gap; otherwise
 * nothing but the lazy-loaded members of the timeline's senders.
 */
function stateBlock(
  ctx: SyncContext,
  req: SyncRequest,
  room: Room,
  timeline: Timeline,
  roomSince: number | undefined,
  upTo: number,
): StoredEvent[] {
  const { filter, userId } = req;
  const events = timeline.events;
  const first = events[0];
  const last = events[events.length - 1];
  const fullState = roomSince === undefined || req.fullState;
  const inTimeline = new Set(events.filter((s) => s.event.state_key !== undefined));
  const senders = new Set(events.map((s) => s.event.sender));
  if (fullState) senders.add(userId);
  const lazy = (s: StoredEvent) =>
    !filter.lazyLoadMembers || !isMember(s) || senders.has(s.event.state_key!);

  let result: Map<string, StoredEvent>;
  if (fullState || timeline.limited) {
    const current = stateAt(room, last?.pos ?? upTo);
    const atStart = first ? stateAt(room, first.pos) : current;
    const previous =
      fullState || roomSince === undefined
        ? new Map<string, StoredEvent>()
        : stateAt(room, roomSince);
    const known = new Set(previous.values());
    if (filter.lazyLoadMembers) {
      // Members of the timeline's senders come again even if sent before.
      for (const s of atStart.values()) if (isMember(s) && lazy(s)) known.delete(s);
    }
    result = new Map();
    for (const source of [atStart, current]) {
      for (const [key, s] of source) {
        if (
          !inTimeline.has(s) &&
          !known.has(s) &&
          (fullState ? lazy(s) : source === current || lazy(s))
        ) {
          result.set(key, s);
        }
      }
    }
  } else {
    result = new Map();
    if (filter.lazyLoadMembers && first) {
      for (const sender of senders) {
        const key = stateKeyOf('m.room.member', sender);
        const s = stateEventAt(room, key, first.pos);
        if (s) result.set(key, s);
      }
    }
  }

  if (filter.lazyLoadMembers && !filter.includeRedundantMembers) {
    const cache = ctx.memberCache(req.device);
    if (roomSince === undefined) cache.clear();
    else {
      for (const [key, s] of result) {
        if (isMember(s) && cache.get(s.event.state_key!) === s.event.event_id) result.delete(key);
      }
    }
    for (const s of [...result.values(), ...inTimeline]) {
      if (isMember(s)) cache.set(s.event.state_key!, s.event.event_id);
    }
  }
  return [...result.values()];
}

function joinedRoom(
  ctx: SyncContext,
  req: SyncRequest,
  room: Room,
  roomSince: number | undefined,
): Json | undefined {
  const timeline = timelineOf(ctx, req, room, roomSince);
  const state = stateBlock(ctx, req, room, timeline, roomSince, ctx.stream);
  if (timeline.events.length === 0 && state.length === 0) return undefined;
  const format = (s: StoredEvent) => syncFormat(s, req.device);
  const membershipChanged =
    timeline.events.some(isMember) || (timeline.limited && state.some(isMember));
  return {
    timeline: {
      events: timeline.events.map(format),
      prev_batch: token((timeline.events[0]?.pos ?? ctx.stream + 1) - 1),
      limited: timeline.limited,
    },
    state: { events: state.map(format) },
    account_data: { events: [] },
    ephemeral: { events: [] },
    unread_notifications: {
      notification_count: room.unread.get(req.userId) ?? 0,
      highlight_count: 0,
    },
    summary:
      req.filter.lazyLoadMembers && (membershipChanged || roomSince === undefined)
        ? summaryOf(room, req.userId)
        : {},
  };
}

function leftRoom(
  ctx: SyncContext,
  req: SyncRequest,
  room: Room,
  since: number,
  leftAt: number,
): Json | undefined {
  const candidates = eventsAfter(room, since).filter(
    (s) => s.pos <= leftAt && req.filter.timeline(s),
  );
  const timeline = {
    events: candidates.slice(-req.filter.limit),
    limited: candidates.length > req.filter.limit,
  };
  const state = stateBlock(ctx, req, room, timeline, since, leftAt);
  if (timeline.events.length === 0 && state.length === 0) return undefined;
  const format = (s: StoredEvent) => syncFormat(s, req.device);
  return {
    timeline: {
      events: timeline.events.map(format),
      prev_batch: token((timeline.events[0]?.pos ?? leftAt + 1) - 1),
      limited: timeline.limited,
    },
    state: { events: state.map(format) },
    account_data: { events: [] },
  };
}

/** Member counts, and up to five "heroes" to name a room that has no name or alias. */
function summaryOf(room: Room, userId: string): Json {
  const joined = membersWith(room, 'join');
  const invited = membersWith(room, 'invite');
  const summary: Json = {
    'm.joined_member_count': joined.length,
    'm.invited_member_count': invited.length,
  };
  const name = room.state.get(stateKeyOf('m.room.name', ''))?.event.content.name;
  const alias = room.state.get(stateKeyOf('m.room.canonical_alias', ''))?.event.content.alias;
  if (name || alias) return summary;
  const others = (users: string[]) => users.filter((u) => u !== userId);
  const present = others([...joined, ...invited]);
  const gone = others([...membersWith(room, 'leave'), ...membersWith(room, 'ban')]);
  summary['m.heroes'] = (present.length > 0 ? present : gone).sort().slice(0, 5);
  return summary;
}

/** Stripped prejoin state, the inviter's member event, then the invite itself. */
function inviteState(room: Room, invite: StoredEvent, device: string): Json[] {
  const stripped: StoredEvent[] = [];
  for (const type of PREJOIN_STATE_TYPES) {
    const s = room.state.get(stateKeyOf(type, ''));
    if (s) stripped.push(s);
  }
  const inviter = room.state.get(stateKeyOf('m.room.member', invite.event.sender));
  if (inviter && inviter !== invite) stripped.push(inviter);
  return [...stripped.map(strippedFormat), syncFormat(invite, device)];
}
