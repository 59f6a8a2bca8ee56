import { PERMISSION_LEVELS, type Config, type PermissionLevel } from '../config/schema';

type PermissionEntry = NonNullable<Config['provisioning']['permissions']>[number];

/** Whether a user is a joined member of a room (for room actors). */
export type RoomMembershipCheck = (roomId: string, userId: string) => Promise<boolean>;

function serverOf(userId: string): string {
  return userId.slice(userId.indexOf(':') + 1);
}

const rank = (level: PermissionLevel): number => PERMISSION_LEVELS.indexOf(level);

/**
 * hookshot's bridge permissions: actors ("*", a server, a user, or the members of a room) get a
 * level per service ("*" = every service); a user has the highest level any matching entry
 * gives. Without a configured list, everyone on the bot's own server is admin.
 */
export class BridgePermissions {
  private readonly entries: readonly PermissionEntry[];

  constructor(
    entries: readonly PermissionEntry[] | null,
    botUserId: string,
    private readonly isRoomMember: RoomMembershipCheck,
  ) {
    this.entries = entries ?? [
      { actor: serverOf(botUserId), services: [{ service: '*', level: 'admin' }] },
    ];
  }

  /** Rooms whose members are actors (the bot should be in them to check membership). */
  get actorRooms(): string[] {
    return this.entries.filter((e) => e.actor.startsWith('!')).map((e) => e.actor);
  }

  /** True when the user has at least `level` for `service` (or for any service, with "*"). */
  async allows(userId: string, service: string, level: PermissionLevel): Promise<boolean> {
    for (const entry of this.entries) {
      const grants = entry.services.some(
        (s) =>
          (service === '*' || s.service === '*' || s.service === service) &&
          rank(s.level) >= rank(level),
      );
      if (grants && (await this.matches(entry.actor, userId))) return true;
    }
    return false;
  }

  private async matches(actor: string, userId: string): Promise<boolean> {
    if (actor === '*' || actor === userId) return true;
    if (actor.startsWith('!')) return this.isRoomMember(actor, userId);
    if (actor.startsWith('@')) return false;
    return serverOf(userId) === actor;
  }
}
