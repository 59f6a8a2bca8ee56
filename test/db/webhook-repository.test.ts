import type { Database } from '../../src/db/database';
import {
  findWebhookHook,
  findWebhookHookOfConnection,
  insertWebhookHook,
  listWebhookHooks,
  moveWebhookHook,
  setWebhookExpiryNoticeSent,
} from '../../src/db/webhook-repository';
import { migrationSource } from '../../src/db/migrations';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { seedConnection } from '../helpers/connection-rows';

async function insertConnection(
  db: Database,
  id: string,
  config: Record<string, unknown> = { name: `hook-${id}` },
): Promise<void> {
  await seedConnection(db.knex, { id, stateKey: `hook-${id}`, config });
}

describe.each(testDatabaseKinds())('webhook repository on %s', (kind) => {
  let db: Database;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('connection').delete();
    await insertConnection(db, 'c1');
    await insertConnection(db, 'c2');
  });

  it('when a hook is inserted then it is found by hook id and by connection id', async () => {
    await insertWebhookHook(db.knex, { hookId: 'h1', connectionId: 'c1' });
    const expected = { hookId: 'h1', connectionId: 'c1', expiryNoticeSent: false };
    expect(await findWebhookHook(db.knex, 'h1')).toEqual(expected);
    expect(await findWebhookHookOfConnection(db.knex, 'c1')).toEqual(expected);
    expect(await findWebhookHook(db.knex, 'nope')).toBeNull();
    expect(await findWebhookHookOfConnection(db.knex, 'c2')).toBeNull();
  });

  it('when hooks exist then the list maps every hook to its connection', async () => {
    await insertWebhookHook(db.knex, { hookId: 'h2', connectionId: 'c2', expiryNoticeSent: true });
    await insertWebhookHook(db.knex, { hookId: 'h1', connectionId: 'c1' });
    expect(await listWebhookHooks(db.knex)).toEqual([
      { hookId: 'h1', connectionId: 'c1', expiryNoticeSent: false },
      { hookId: 'h2', connectionId: 'c2', expiryNoticeSent: true },
    ]);
  });

  it('when the expiry notice is marked then the row says so, and can be reset', async () => {
    await insertWebhookHook(db.knex, { hookId: 'h1', connectionId: 'c1' });
    await setWebhookExpiryNoticeSent(db.knex, 'h1');
    expect((await findWebhookHook(db.knex, 'h1'))?.expiryNoticeSent).toBe(true);
    await setWebhookExpiryNoticeSent(db.knex, 'h1', false);
    expect((await findWebhookHook(db.knex, 'h1'))?.expiryNoticeSent).toBe(false);
  });

  it('when a connection has a hook then a second hook for it is refused', async () => {
    await insertWebhookHook(db.knex, { hookId: 'h1', connectionId: 'c1' });
    await expect(
      insertWebhookHook(db.knex, { hookId: 'h3', connectionId: 'c1' }),
    ).rejects.toThrow();
  });

  it('when the connection is deleted then its hook goes with it', async () => {
    await insertWebhookHook(db.knex, { hookId: 'h1', connectionId: 'c1' });
    await db.knex('connection').where({ id: 'c1' }).delete();
    expect(await findWebhookHook(db.knex, 'h1')).toBeNull();
    expect(await listWebhookHooks(db.knex)).toEqual([]);
  });

  it('when a hook is moved to another connection then it keeps its id and leaves the old one', async () => {
    await insertWebhookHook(db.knex, { hookId: 'h1', connectionId: 'c1' });
    await insertConnection(db, 'c3');
    expect(await moveWebhookHook(db.knex, 'c1', 'c3')).toBe('h1');
    expect(await findWebhookHook(db.knex, 'h1')).toMatchObject({ connectionId: 'c3' });
    expect(await findWebhookHookOfConnection(db.knex, 'c1')).toBeNull();
    expect(await moveWebhookHook(db.knex, 'c2', 'c3')).toBeNull();
  });

  it('when the hook-id migration runs then webhook configs lose the hookId an update copied in', async () => {
    // Back to before the migration, with the data it fixes.
    await db.knex.migrate.down({
      migrationSource,
      name: '20261210000000_webhook_config_without_hook_id',
    });
    await insertConnection(db, 'c3', { name: 'hook-c3', hookId: 'h3', waitForComplete: true });
    await insertWebhookHook(db.knex, { hookId: 'h3', connectionId: 'c3' });
    await db.knex.migrate.up({
      migrationSource,
      name: '20261210000000_webhook_config_without_hook_id',
    });
    const row = await db.knex('connection').where({ id: 'c3' }).first();
    expect(row.config).toEqual({ name: 'hook-c3', waitForComplete: true });
    expect(await findWebhookHookOfConnection(db.knex, 'c3')).toMatchObject({ hookId: 'h3' });
  });
});
