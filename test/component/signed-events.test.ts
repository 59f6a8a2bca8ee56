import { createHmac } from 'node:crypto';
import { SignedEvents, type EventSource } from '../../src/bridge/signed-events';
import type { Database } from '../../src/db/database';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';

const SECRET = 'hook-secret';
const sign = (body: Buffer, secret = SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The receiving GitHub and JIRA share, without HTTP: the checks, redeliveries, the dispatch. */
describe.each(testDatabaseKinds())('SignedEvents on %s', (kind) => {
  let db: Database;
  let events: SignedEvents;
  let dispatched: unknown[];

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.knex('webhook_delivery').delete();
    events = new SignedEvents(db.knex, 'jira', captureLogs().logger);
    dispatched = [];
  });

  const source = (overrides: Partial<EventSource<unknown>> = {}): EventSource<unknown> => ({
    secret: SECRET,
    querySecret: true,
    parse: (body) => {
      try {
        return { event: JSON.parse(body.toString('utf8')) as unknown };
      } catch {
        return { malformed: 'not JSON' };
      }
    },
    dispatch: (event) => {
      dispatched.push(event);
      return Promise.resolve();
    },
    ...overrides,
  });

  it('when no secret is configured then notConfigured, whatever the delivery says', async () => {
    const body = Buffer.from('{}');
    await expect(
      events.receive({ body, signature: sign(body) }, source({ secret: undefined })),
    ).resolves.toEqual({ kind: 'notConfigured' });
  });

  it('when the signature or the secret is wrong or absent then unauthenticated, nothing dispatched', async () => {
    const body = Buffer.from('{"a":1}');
    const cases = [
      [{ body, signature: sign(body, 'other') }, 'badSignature'],
      [{ body, signature: sign(Buffer.from('{"a":2}')) }, 'badSignature'],
      [{ body, querySecret: 'wrong' }, 'badSecret'],
      [{ body }, 'badSecret'],
    ] as const;
    for (const [delivery, reason] of cases) {
      await expect(events.receive(delivery, source())).resolves.toEqual({
        kind: 'unauthenticated',
        reason,
      });
    }
    // Without query secrets (GitHub's way) a missing signature is a bad signature.
    await expect(events.receive({ body }, source({ querySecret: false }))).resolves.toEqual({
      kind: 'unauthenticated',
      reason: 'badSignature',
    });
    await expect(
      events.receive({ body, querySecret: SECRET }, source({ querySecret: false })),
    ).resolves.toEqual({ kind: 'unauthenticated', reason: 'badSignature' });
    expect(dispatched).toEqual([]);
  });

  it('when the body is malformed then malformed, and its delivery id is not spent', async () => {
    const bad = Buffer.from('{nope');
    await expect(
      events.receive({ body: bad, signature: sign(bad), deliveryId: 'd1' }, source()),
    ).resolves.toEqual({ kind: 'malformed', message: 'not JSON' });
    expect(await db.knex('webhook_delivery')).toEqual([]);
  });

  it('when a delivery comes twice then the second is redelivered and dispatched once', async () => {
    const body = Buffer.from('{"n":1}');
    const delivery = { body, querySecret: SECRET, deliveryId: 'd2' };
    await expect(events.receive(delivery, source())).resolves.toEqual({ kind: 'accepted' });
    await expect(events.receive(delivery, source())).resolves.toEqual({ kind: 'redelivered' });
    // The other service's store is its own.
    const github = new SignedEvents(db.knex, 'github', captureLogs().logger);
    await expect(
      github.receive({ body, signature: sign(body), deliveryId: 'd2' }, source()),
    ).resolves.toEqual({ kind: 'accepted' });
    await waitFor(() => dispatched.length === 2);
    expect(dispatched).toEqual([{ n: 1 }, { n: 1 }]);
  });

  it('when the dispatch fails then the delivery was still accepted and the failure is logged', async () => {
    const logs = captureLogs();
    const failing = new SignedEvents(db.knex, 'jira', logs.logger);
    const body = Buffer.from('{}');
    const outcome = await failing.receive(
      { body, querySecret: SECRET },
      source({ dispatch: () => Promise.reject(new Error('room gone')) }),
    );
    expect(outcome).toEqual({ kind: 'accepted' });
    await waitFor(() => logs.text().includes('room gone'));
  });
});
