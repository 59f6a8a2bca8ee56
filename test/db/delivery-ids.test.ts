import { DELIVERY_RETENTION_MS, DeliveryIds } from '../../src/bridge/delivery-ids';
import type { Database } from '../../src/db/database';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';

const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const MINUTE = 60_000;

describe.each(testDatabaseKinds())('webhook delivery ids on %s', (kind) => {
  let db: Database;
  let clock: number;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('webhook_delivery').delete();
    clock = T0;
  });

  const rows = async () =>
    (
      await db
        .knex('webhook_delivery')
        .select('service', 'delivery_id', 'received_at')
        .orderBy(['service', 'delivery_id'])
    ).map((r: { service: string; delivery_id: string; received_at: Date }) => [
      r.service,
      r.delivery_id,
      new Date(r.received_at).getTime(),
    ]);

  it('when an id comes twice then the second time is a redelivery; other services are apart', async () => {
    const github = new DeliveryIds(db.knex, 'github', () => clock);
    const jira = new DeliveryIds(db.knex, 'jira', () => clock);
    expect(await github.firstTime('d-1')).toBe(true);
    expect(await github.firstTime('d-1')).toBe(false);
    expect(await jira.firstTime('d-1')).toBe(true);
    expect(await rows()).toEqual([
      ['github', 'd-1', T0],
      ['jira', 'd-1', T0],
    ]);
  });

  it('when ids are older than the retention then the next delivery after an hour forgets them', async () => {
    const github = new DeliveryIds(db.knex, 'github', () => clock);
    expect(await github.firstTime('old')).toBe(true);
    clock = T0 + DELIVERY_RETENTION_MS - 30 * MINUTE;
    expect(await github.firstTime('recent')).toBe(true);
    expect(await rows()).toHaveLength(2);

    // Past the retention, but within the hour since the last clean-up: kept for now.
    clock = T0 + DELIVERY_RETENTION_MS + 10 * MINUTE;
    expect(await github.firstTime('newer')).toBe(true);
    expect((await rows()).map((r) => r[1])).toEqual(['newer', 'old', 'recent']);

    clock = T0 + DELIVERY_RETENTION_MS + 31 * MINUTE;
    expect(await github.firstTime('newest')).toBe(true);
    expect((await rows()).map((r) => r[1])).toEqual(['newer', 'newest', 'recent']);
    // A forgotten id counts as new again; a remembered one still does not.
    expect(await github.firstTime('old')).toBe(true);
    expect(await github.firstTime('recent')).toBe(false);
  });
});
