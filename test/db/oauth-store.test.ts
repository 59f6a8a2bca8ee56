import { OAUTH_STATE_TTL_MS, OauthStore } from '../../src/oauth/oauth-store';
import type { Database } from '../../src/db/database';
import type { DbUserTokenRow } from '../../src/db/tables';
import { SecretBox } from '../../src/secrets/secret-box';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';

const KEY = Buffer.alloc(32, 3).toString('base64');
const ALICE = '@alice:switchboard.test';

describe.each(testDatabaseKinds())('OauthStore on %s', (kind) => {
  let db: Database;
  let clock: number;
  let store: OauthStore;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('oauth_state').delete();
    await db.knex('user_token').delete();
    clock = Date.parse('2026-12-01T12:00:00Z');
    store = new OauthStore(db.knex, new SecretBox(KEY), () => clock);
  });

  it('when a state is younger than 30 minutes then it names its user, only for its service', async () => {
    const state = await store.createState('jira', ALICE);
    expect(state).toMatch(/^[0-9a-f-]{36}$/);
    clock += OAUTH_STATE_TTL_MS - 1;
    expect(await store.userOfState('jira', state)).toBe(ALICE);
    expect(await store.userOfState('github', state)).toBeNull();
  });

  it('when 30 minutes have passed then the state is gone, and new states sweep expired ones', async () => {
    const state = await store.createState('jira', ALICE);
    clock += OAUTH_STATE_TTL_MS;
    expect(await store.userOfState('jira', state)).toBeNull();
    await store.createState('jira', ALICE);
    const rows = await db.knex('oauth_state').select('state');
    expect(rows.map((r: { state: string }) => r.state)).not.toContain(state);
    expect(rows).toHaveLength(1);
  });

  it.each(['%00', 'a\u0000b', 'not-a-uuid', ''])(
    'when the callback brings a state the store never makes (%j), then it names nobody, without a query error',
    async (state) => {
      const real = await store.createState('github', ALICE);
      expect(await store.userOfState('github', state)).toBeNull();
      await store.consumeState(state);
      // A NUL byte fails any query that carries it; one in the middle of a UUID is no UUID.
      expect(await store.userOfState('github', `${real}\u0000`)).toBeNull();
      expect(await store.userOfState('github', real)).toBe(ALICE);
    },
  );

  it('when a state is consumed then it no longer names a user', async () => {
    const state = await store.createState('github', ALICE);
    await store.consumeState(state);
    expect(await store.userOfState('github', state)).toBeNull();
  });

  it('when a token is saved then it reads back equal and the row holds only ciphertext', async () => {
    const token = {
      accessToken: 'secret-access-value',
      refreshToken: 'secret-refresh',
      expiresAt: 5,
    };
    await store.saveToken('jira', ALICE, token);
    expect(await store.token('jira', ALICE)).toEqual(token);
    expect(await store.token('github', ALICE)).toBeNull();
    const rows = await db.knex<DbUserTokenRow>('user_token').select('*');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.key_id).toBe(new SecretBox(KEY).currentKeyId);
    expect(JSON.stringify(rows)).not.toContain('secret-access-value');
    expect(JSON.stringify(rows)).not.toContain('secret-refresh');

    // A second save replaces the first (one token per user and service).
    await store.saveToken('jira', ALICE, { ...token, accessToken: 'next' });
    expect(await store.token('jira', ALICE)).toEqual({ ...token, accessToken: 'next' });
    expect(await db.knex('user_token').select('user_id')).toHaveLength(1);

    await store.deleteToken('jira', ALICE);
    expect(await store.token('jira', ALICE)).toBeNull();
  });

  it('when the key differs then a stored token does not open', async () => {
    await store.saveToken('jira', ALICE, { accessToken: 'x' });
    const other = new OauthStore(db.knex, new SecretBox(Buffer.alloc(32, 9).toString('base64')));
    await expect(other.token('jira', ALICE)).rejects.toThrow(/not configured/);
  });
});
