import type { SyncRooms } from './sync-store';

/** The account's own membership of a room, as the homeserver reported it. */
export interface MembershipChange {
  roomId: string;
  membership: 'join' | 'invite' | 'leave' | 'ban';
  /** Who changed it, when known: a kick or ban names the moderator. */
  sender?: string;
  reason?: string;
}

/** An invite a sync brought that the account has not answered yet. */
export interface NewInvite {
  roomId: string;
  inviter: string | null;
}

/**
 * Where the account is: the rooms it is joined or invited to, from sync's room lists, its own
 * joins and leaves, and /joined_rooms. Each change of a room's membership is told once.
 */
export class RoomMemberships {
  /** roomId → membership, for rooms joined or invited to. */
  private readonly rooms = new Map<string, 'join' | 'invite'>();
  /** The invite event last answered per room (a sync that raced a join may show it again). */
  private readonly answeredInvites = new Map<string, string>();

  constructor(
    private readonly userId: string,
    private readonly onChange?: (change: MembershipChange) => void,
  ) {}

  isJoined(roomId: string): boolean {
    return this.rooms.get(roomId) === 'join';
  }

  of(roomId: string): 'join' | 'invite' | undefined {
    return this.rooms.get(roomId);
  }

  joined(): string[] {
    return [...this.rooms].flatMap(([roomId, m]) => (m === 'join' ? [roomId] : []));
  }

  /** Joined when the client starts: known, not news (nothing is told). */
  known(roomId: string): void {
    this.rooms.set(roomId, 'join');
  }

  set(change: MembershipChange): void {
    const { roomId, membership } = change;
    const before = this.rooms.get(roomId) ?? 'leave';
    if (membership === 'join' || membership === 'invite') this.rooms.set(roomId, membership);
    else this.rooms.delete(roomId);
    const changed =
      membership === 'join' || membership === 'invite' ? before !== membership : before !== 'leave';
    if (changed) this.onChange?.(change);
  }

  /** The joined rooms as /joined_rooms lists them now: the others count as left. */
  joinedAre(joined: ReadonlySet<string>): void {
    for (const roomId of this.joined()) {
      if (!joined.has(roomId)) this.set({ roomId, membership: 'leave' });
    }
    for (const roomId of joined) this.set({ roomId, membership: 'join' });
  }

  /**
   * The room lists of a sync answer say where the account is now: `join` (also for a join the
   * account's own filtered-out events do not show), `invite`, `leave` (left, kicked or banned;
   * the timeline names who did it when it shows). Leaves first: a room can be left and then
   * joined or invited again between two syncs. Returns the invites to answer.
   */
  fromSync(data: SyncRooms): NewInvite[] {
    const rooms = data.rooms ?? {};
    for (const [roomId, left] of Object.entries(rooms.leave ?? {})) {
      const own = (left.timeline?.events ?? []).filter(
        (e) => e.type === 'm.room.member' && e.state_key === this.userId,
      );
      const last = own[own.length - 1];
      const membership = last?.content?.membership === 'ban' ? 'ban' : 'leave';
      this.set({
        roomId,
        membership,
        ...(typeof last?.sender === 'string' ? { sender: last.sender } : {}),
        ...(typeof last?.content?.reason === 'string' ? { reason: last.content.reason } : {}),
      });
    }
    const invites: NewInvite[] = [];
    for (const [roomId, invited] of Object.entries(rooms.invite ?? {})) {
      const invite = (invited.invite_state?.events ?? []).find(
        (e) =>
          e.type === 'm.room.member' &&
          e.state_key === this.userId &&
          e.content?.membership === 'invite',
      );
      const inviter = typeof invite?.sender === 'string' ? invite.sender : null;
      const eventId = typeof invite?.event_id === 'string' ? invite.event_id : undefined;
      // Seen before (a sync that raced our join), or invited to a room we are in: stale.
      if (eventId !== undefined && this.answeredInvites.get(roomId) === eventId) continue;
      if (eventId === undefined && this.isJoined(roomId)) continue;
      if (eventId !== undefined) this.answeredInvites.set(roomId, eventId);
      this.set({ roomId, membership: 'invite', ...(inviter ? { sender: inviter } : {}) });
      invites.push({ roomId, inviter });
    }
    for (const roomId of Object.keys(rooms.join ?? {})) {
      this.set({ roomId, membership: 'join' });
    }
    return invites;
  }
}
