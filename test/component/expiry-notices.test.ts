import type { StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import { findWebhookHook, insertWebhookHook } from '../../src/db/webhook-repository';
import { ExpiryNotices } from '../../src/webhooks/expiry-notices';
import { WebhookHooks } from '../../src/webhooks/webhook-hooks';
import { openTestDatabase } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { RecordingMessenger, type Sent } from '../fakes/recording-messenger';
import { seedConnection } from '../helpers/connection-rows';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const HOUR = 3_600_000;
const ROOM = '!room:switchboard.test';

describe('ExpiryNotices', () => {
  let db: Database;
  let messenger: RecordingMessenger;
  let sent: Sent[];
  let connections: StoredConnection[];
  let hooks: WebhookHooks;
  let clock: number;

  beforeAll(async () => {
    db = await openTestDatabase('embedded');
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('connection').delete();
    messenger = new RecordingMessenger();
    sent = messenger.sent;
    connections = [];
    hooks = new WebhookHooks();
    clock = NOW;
  });

  async function hook(name: string, expiresIn: number | null): Promise<string> {
    const config: Record<string, unknown> = { name };
    if (expiresIn !== null) config.expirationDate = new Date(NOW + expiresIn).toISOString();
    const id = `conn-${name}`;
    const connection = await seedConnection(db.knex, { id, roomId: ROOM, stateKey: name, config });
    const hookId = `hook-${name}`;
    await insertWebhookHook(db.knex, { hookId, connectionId: id });
    hooks.set(hookId, id);
    connections.push(connection);
    return hookId;
  }

  const notices = () =>
    new ExpiryNotices({
      db: db.knex,
      messenger,
      connections: () => connections,
      hooks,
      logger: captureLogs().logger,
      now: () => clock,
    });

  it('when under 3 days remain then the room is told once, and the row remembers it', async () => {
    const soon = await hook('soon', 50 * HOUR);
    await hook('later', 4 * 24 * HOUR);
    await hook('never', null);
    await hook('gone', -HOUR);
    const expiry = notices();
    await expiry.checkNow();
    expect(sent).toEqual([
      {
        roomId: ROOM,
        content: {
          msgtype: 'm.notice',
          body: 'The webhook **soon** will be expiring in 50 hours.',
          format: 'org.matrix.custom.html',
          formatted_body: '<p>The webhook <strong>soon</strong> will be expiring in 50 hours.</p>',
        },
      },
    ]);
    expect((await findWebhookHook(db.knex, soon))?.expiryNoticeSent).toBe(true);
    await expiry.checkNow();
    // A restart reads the mark from the row.
    await notices().checkNow();
    expect(sent).toHaveLength(1);
  });

  it('when time passes then a hook that enters its last 3 days gets its notice', async () => {
    await hook('later', 4 * 24 * HOUR);
    const expiry = notices();
    await expiry.checkNow();
    expect(sent).toEqual([]);
    clock = NOW + 2 * 24 * HOUR;
    await expiry.checkNow();
    expect(sent.map((s) => s.content.body)).toEqual([
      'The webhook **later** will be expiring in 48 hours.',
    ]);
  });

  it('when started then a timer runs every 15 minutes, and stop ends it', () => {
    jest.useFakeTimers();
    try {
      const expiry = notices();
      const check = jest.spyOn(expiry, 'checkNow').mockResolvedValue();
      expiry.start();
      jest.advanceTimersByTime(14 * 60_000);
      expect(check).not.toHaveBeenCalled();
      jest.advanceTimersByTime(2 * 60_000);
      expect(check).toHaveBeenCalledTimes(1);
      expiry.stop();
      jest.advanceTimersByTime(60 * 60_000);
      expect(check).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
