import type { Config } from '../../src/config/schema';
import { ConnectionError } from '../../src/bridge/connection-errors';
import type { StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import { findWebhookHookOfConnection } from '../../src/db/webhook-repository';
import { TransformationRunner } from '../../src/webhooks/transformation';
import { WebhookHooks } from '../../src/webhooks/webhook-hooks';
import { WebhookKind, parseExpirationDate } from '../../src/webhooks/webhook-kind';
import { testConfig } from '../helpers/config';
import { TEST_TRANSFORMATION_LIMITS } from '../helpers/transformation-limits';
import { openTestDatabase } from '../helpers/databases';
import { seedConnection } from '../helpers/connection-rows';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const HOUR = 3_600_000;
const ROOM = '!room:switchboard.test';
const ALICE = '@alice:switchboard.test';

function config(webhooks: Record<string, unknown> = {}): Config {
  return testConfig({
    webhooks: { urlPrefix: 'https://hooks.example.org/webhook', ...webhooks },
  });
}

describe('WebhookKind', () => {
  let db: Database;
  let runner: TransformationRunner;

  beforeAll(async () => {
    db = await openTestDatabase('embedded');
    runner = await TransformationRunner.create(TEST_TRANSFORMATION_LIMITS);
  });
  afterAll(async () => {
    await runner.close();
    await db.close();
  });

  const kind = (webhooks: Record<string, unknown> = {}, hooks = new WebhookHooks()): WebhookKind =>
    new WebhookKind({ config: config(webhooks), db: db.knex, runner, hooks, now: () => NOW });

  const create = (body: Record<string, unknown>, webhooks: Record<string, unknown> = {}) =>
    kind(webhooks).create({ roomId: ROOM, userId: ALICE, body, existing: [] });

  async function refusal(promise: Promise<unknown>): Promise<{ errcode: string; message: string }> {
    const err: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    const { errcode, message } = err as ConnectionError;
    return { errcode, message };
  }

  const bad = (message: string) => ({ errcode: 'HS_BAD_VALUE', message });

  it('when the name is of the wrong length or type then it is refused', async () => {
    const length = bad("'name' must be a string between 3-64 characters long");
    expect(await refusal(create({ name: 'ab' }))).toEqual(length);
    expect(await refusal(create({ name: 'x'.repeat(65) }))).toEqual(length);
    expect(await refusal(create({ name: 42 }))).toEqual(length);
  });

  it('when the name is absent, null or empty then a webhook-<8 hex> name is made up', async () => {
    for (const body of [{}, { name: null }, { name: '' }]) {
      const prepared = await create(body);
      expect(prepared.stateKey).toMatch(/^webhook-[0-9a-f]{8}$/);
      expect(prepared.config).toEqual({ name: prepared.stateKey });
    }
  });

  it('when fields are valid then the state holds exactly them', async () => {
    const body = {
      name: 'deploys',
      waitForComplete: true,
      expirationDate: new Date(NOW + 5 * 24 * HOUR).toISOString(),
      priority: 3,
      commandPrefix: '!hook',
      other: 'dropped',
    };
    const expected: Record<string, unknown> = { ...body };
    delete expected.other;
    expect(await create(body)).toEqual({ stateKey: 'deploys', config: expected });
  });

  it('when transformation functions are off then giving one is refused with HS_DISABLED_FEATURE', async () => {
    expect(await refusal(create({ name: 'test', transformationFunction: 'result = 1' }))).toEqual({
      errcode: 'HS_DISABLED_FEATURE',
      message: 'Transformation functions are not allowed',
    });
    expect(await create({ name: 'test', transformationFunction: null })).toEqual({
      stateKey: 'test',
      config: { name: 'test' },
    });
  });

  it('when transformation functions are on then non-strings and bad code are refused', async () => {
    const on = { allowJsTransformationFunctions: true };
    expect(await refusal(create({ name: 'test', transformationFunction: 5 }, on))).toEqual(
      bad('Transformation functions must be a string'),
    );
    expect(
      await refusal(create({ name: 'test', transformationFunction: 'result = ;' }, on)),
    ).toEqual(
      bad(
        "Could not compile transformation function: SyntaxError: unexpected token in expression: ';'",
      ),
    );
    expect(
      (await create({ name: 'test', transformationFunction: 'result = "x"' }, on)).config,
    ).toEqual({ name: 'test', transformationFunction: 'result = "x"' });
  });

  it('when a function has a top-level return or is empty then it is taken as hookshot takes it', async () => {
    const on = { allowJsTransformationFunctions: true };
    // hookshot runs the body inside a function; this was refused as "return not in a function".
    const early = 'if (!data.ok) { result = "no"; return; }\nresult = "yes";';
    expect((await create({ name: 'test', transformationFunction: early }, on)).config).toEqual({
      name: 'test',
      transformationFunction: early,
    });
    // An empty function is no function, as in hookshot.
    expect((await create({ name: 'test', transformationFunction: '' }, on)).config).toEqual({
      name: 'test',
    });
  });

  it('when waitForComplete is not a boolean then it is refused', async () => {
    expect(await refusal(create({ name: 'test', waitForComplete: 'yes' }))).toEqual(
      bad("'waitForComplete' must be a boolean"),
    );
  });

  it('when expirationDate is empty, not a string or not the format then it is refused', async () => {
    expect(await refusal(create({ name: 'test', expirationDate: '' }))).toEqual(
      bad("'expirationDate' must be a non-empty string"),
    );
    expect(await refusal(create({ name: 'test', expirationDate: 5 }))).toEqual(
      bad("'expirationDate' must be a non-empty string"),
    );
    for (const value of ['2026-12-10', '2026-12-10T12:00:00Z', '2026-02-30T12:00:00.000Z']) {
      expect(await refusal(create({ name: 'test', expirationDate: value }))).toEqual(
        bad("'expirationDate' must be a valid date"),
      );
    }
  });

  it('when an offset is given then the date is read with it', () => {
    expect(parseExpirationDate('2026-12-01T13:30:00.000+0130')).toBe(NOW);
    expect(parseExpirationDate('2026-12-01T10:00:00.000-0200')).toBe(NOW);
  });

  it('when a new expiry breaks the limits then the create is refused', async () => {
    const at = (ms: number) => ({ name: 'test', expirationDate: new Date(NOW + ms).toISOString() });
    expect(await refusal(create(at(30 * 60_000)))).toEqual(
      bad('Expiration date must at least be a hour in the future'),
    );
    expect(await refusal(create(at(8 * 24 * HOUR), { maxExpiryTime: '7d' }))).toEqual(
      bad('Expiration date cannot exceed the configured max expiry time'),
    );
    expect((await create(at(6 * 24 * HOUR), { maxExpiryTime: '7d' })).stateKey).toBe('test');
    expect(await refusal(create({ name: 'test' }, { requireExpiryTime: true }))).toEqual(
      bad('Expiration date must be set'),
    );
  });

  describe('stored connections', () => {
    let seq = 0;
    async function stored(config: Record<string, unknown>): Promise<StoredConnection> {
      const id = `conn-${++seq}`;
      return seedConnection(db.knex, {
        id,
        roomId: ROOM,
        stateKey: String(config.name),
        config,
        createdBy: ALICE,
      });
    }

    async function persist(k: WebhookKind, conn: StoredConnection) {
      await db.knex.transaction((trx) => k.persist(trx, conn));
    }

    it('when persisted then a UUID hook is stored once, indexed on commit, shown as URL', async () => {
      const hooks = new WebhookHooks();
      const k = kind({}, hooks);
      const expiry = new Date(NOW + 5 * 24 * HOUR).toISOString();
      const conn = await stored({ name: 'test', expirationDate: expiry });
      await persist(k, conn);
      const row = await findWebhookHookOfConnection(db.knex, conn.id);
      expect(row?.hookId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(row?.expiryNoticeSent).toBe(false);
      await persist(k, conn);
      expect((await findWebhookHookOfConnection(db.knex, conn.id))?.hookId).toBe(row?.hookId);

      expect(hooks.connectionOf(row!.hookId)).toBeUndefined();
      k.committed(conn);
      expect(hooks.connectionOf(row!.hookId)).toBe(conn.id);
      expect(await k.secrets(conn)).toEqual({
        shown: {
          url: `https://hooks.example.org/webhook/${row!.hookId}`,
          hookId: row!.hookId,
          timeRemainingMs: 5 * 24 * HOUR,
        },
        config: { url: `https://hooks.example.org/webhook/${row!.hookId}` },
      });

      k.removed(conn);
      expect(hooks.connectionOf(row!.hookId)).toBeUndefined();
    });

    it('when created with under 3 days left then the expiry notice counts as sent', async () => {
      const k = kind();
      const conn = await stored({
        name: 'soon',
        expirationDate: new Date(NOW + 2 * 24 * HOUR).toISOString(),
      });
      await persist(k, conn);
      expect((await findWebhookHookOfConnection(db.knex, conn.id))?.expiryNoticeSent).toBe(true);
    });

    it('when the room has a hook of that name then create keeps its state key', async () => {
      const conn = await stored({ name: 'again' });
      const prepared = await kind().create({
        roomId: ROOM,
        userId: ALICE,
        body: { name: 'again', waitForComplete: true },
        existing: [conn],
      });
      expect(prepared).toEqual({
        stateKey: 'again',
        config: { name: 'again', waitForComplete: true },
      });
    });

    it('when updated then the body merges, a missing expiry clears it and the hook id stays out', async () => {
      const hooks = new WebhookHooks();
      const k = kind({ requireExpiryTime: true, maxExpiryTime: '1h' }, hooks);
      const conn = await stored({
        name: 'patched',
        waitForComplete: true,
        expirationDate: new Date(NOW + 10 * 24 * HOUR).toISOString(),
      });
      await persist(k, conn);
      k.committed(conn);
      // A hook id an earlier version copied into the config is dropped.
      const legacy = { ...conn, config: { ...conn.config, hookId: hooks.hookOf(conn.id) } };
      expect(await k.update({ userId: ALICE, current: legacy, body: { priority: 2 } })).toEqual({
        stateKey: 'patched',
        config: { name: 'patched', waitForComplete: true, priority: 2 },
      });
      // Create-only checks do not apply: this expiry is past the max and under 1 h away.
      const soon = new Date(NOW + 60_000).toISOString();
      expect(
        (await k.update({ userId: ALICE, current: conn, body: { expirationDate: soon } })).config,
      ).toEqual({ name: 'patched', waitForComplete: true, expirationDate: soon });
      expect(
        await refusal(k.update({ userId: ALICE, current: conn, body: { waitForComplete: 1 } })),
      ).toEqual(bad("'waitForComplete' must be a boolean"));
      expect(
        await refusal(k.update({ userId: ALICE, current: conn, body: { name: 'renamed' } })),
      ).toEqual(bad('The name of a webhook cannot be changed'));
    });

    it('when the hooks index is loaded then it holds every stored hook', async () => {
      const k = kind();
      const conn = await stored({ name: 'loaded' });
      await persist(k, conn);
      const row = await findWebhookHookOfConnection(db.knex, conn.id);
      const hooks = new WebhookHooks();
      await hooks.load(db.knex);
      expect(hooks.connectionOf(row!.hookId)).toBe(conn.id);
      expect(hooks.hookOf(conn.id)).toBe(row!.hookId);
      hooks.removeConnection(conn.id);
      expect(hooks.connectionOf(row!.hookId)).toBeUndefined();
      expect(hooks.hookOf(conn.id)).toBeUndefined();
    });
  });

  it('has the tombstone and declaration of hookshot webhooks', () => {
    const k = kind();
    expect(k.tombstone).toEqual({ disabled: true });
    expect(k.declaration.eventType).toBe('uk.half-shot.matrix-hookshot.generic.hook');
  });
});
