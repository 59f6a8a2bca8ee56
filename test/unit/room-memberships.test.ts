import { RoomMemberships, type MembershipChange } from '../../src/matrix/room-memberships';

const ME = '@bot:example.org';

function memberships() {
  const told: MembershipChange[] = [];
  return { rooms: new RoomMemberships(ME, (change) => told.push(change)), told };
}

const invite = (eventId: string, sender = '@alice:example.org') => ({
  invite_state: {
    events: [
      {
        type: 'm.room.member',
        state_key: ME,
        sender,
        event_id: eventId,
        content: { membership: 'invite' },
      },
    ],
  },
});

describe('RoomMemberships', () => {
  it('when a sync lists a room left and joined again, then the leave is read first and both are told', () => {
    const { rooms, told } = memberships();
    rooms.known('!a:x');
    const invites = rooms.fromSync({
      rooms: {
        leave: {
          '!a:x': {
            timeline: {
              events: [
                {
                  type: 'm.room.member',
                  state_key: ME,
                  sender: '@mod:x',
                  content: { membership: 'ban', reason: 'spam' },
                },
              ],
            },
          },
        },
        join: { '!a:x': {} },
      },
    });
    expect(invites).toEqual([]);
    expect(told).toEqual([
      { roomId: '!a:x', membership: 'ban', sender: '@mod:x', reason: 'spam' },
      { roomId: '!a:x', membership: 'join' },
    ]);
    expect(rooms.isJoined('!a:x')).toBe(true);
  });

  it('when an invite comes, then it is returned once, even if a later sync shows it again', () => {
    const { rooms, told } = memberships();
    expect(rooms.fromSync({ rooms: { invite: { '!b:x': invite('$1') } } })).toEqual([
      { roomId: '!b:x', inviter: '@alice:example.org' },
    ]);
    expect(rooms.of('!b:x')).toBe('invite');
    rooms.set({ roomId: '!b:x', membership: 'join', sender: ME });
    // A sync that raced the join shows the same invite.
    expect(rooms.fromSync({ rooms: { invite: { '!b:x': invite('$1') } } })).toEqual([]);
    expect(rooms.isJoined('!b:x')).toBe(true);
    expect(told.map((c) => c.membership)).toEqual(['invite', 'join']);
  });

  it('when a room is known at start or set twice, then nothing or only the change is told', () => {
    const { rooms, told } = memberships();
    rooms.known('!c:x');
    rooms.set({ roomId: '!c:x', membership: 'join' });
    rooms.set({ roomId: '!d:x', membership: 'leave' });
    expect(told).toEqual([]);
    expect(rooms.joined()).toEqual(['!c:x']);
  });

  it('when /joined_rooms disagrees, then rooms missing from it are left and new ones joined', () => {
    const { rooms, told } = memberships();
    rooms.known('!gone:x');
    rooms.known('!stay:x');
    rooms.joinedAre(new Set(['!stay:x', '!new:x']));
    expect(rooms.joined().sort()).toEqual(['!new:x', '!stay:x']);
    expect(told).toEqual([
      { roomId: '!gone:x', membership: 'leave' },
      { roomId: '!new:x', membership: 'join' },
    ]);
  });
});
