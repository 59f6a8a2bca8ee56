import type { Database } from '../../src/db/database';
import { OauthCodeRefused, OauthFlow } from '../../src/oauth/oauth-flow';
import { OauthStore } from '../../src/oauth/oauth-store';
import { SecretBox } from '../../src/secrets/secret-box';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';

const ALICE = '@alice:switchboard.test';
const TOKEN = { accessToken: 'secret-access-token' };

/** The login flow GitHub and JIRA share, without HTTP: outcomes and what is stored. */
describe.each(testDatabaseKinds())('OauthFlow on %s', (kind) => {
  let db: Database;
  let store: OauthStore;
  let flow: OauthFlow;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.knex('oauth_state').delete();
    await db.knex('user_token').delete();
    logs = captureLogs();
    store = new OauthStore(db.knex, new SecretBox(Buffer.alloc(32, 3).toString('base64')));
    flow = new OauthFlow(store, 'jira', logs.logger);
  });

  const exchange = (token: object = TOKEN) => ({ exchange: () => Promise.resolve(token) });

  it('when state or code is missing or empty then missing names it, state first, and nothing is stored', async () => {
    await expect(flow.complete({}, exchange())).resolves.toEqual({
      kind: 'missing',
      parameter: 'state',
    });
    await expect(flow.complete({ state: 's', code: '' }, exchange())).resolves.toEqual({
      kind: 'missing',
      parameter: 'code',
    });
    expect(await db.knex('user_token')).toEqual([]);
  });

  it('when the state is unknown, or of the other service, then unknownState', async () => {
    const githubState = await new OauthFlow(store, 'github', logs.logger).start(ALICE);
    await expect(flow.complete({ state: githubState, code: 'c' }, exchange())).resolves.toEqual({
      kind: 'unknownState',
    });
    await expect(flow.complete({ state: 'nope', code: 'c' }, exchange())).resolves.toEqual({
      kind: 'unknownState',
    });
  });

  it('when the user may not log in then forbidden before any exchange, and the state stays', async () => {
    const state = await flow.start(ALICE);
    const calls: string[] = [];
    const outcome = await flow.complete(
      { state, code: 'c' },
      {
        exchange: (code) => {
          calls.push(code);
          return Promise.resolve(TOKEN);
        },
        mayLogIn: () => Promise.resolve(false),
      },
    );
    expect(outcome).toEqual({ kind: 'forbidden', userId: ALICE });
    expect(calls).toEqual([]);
    expect(await store.userOfState('jira', state)).toBe(ALICE);
  });

  it('when the provider refuses the code then codeRefused; when it fails otherwise then exchangeFailed, logged', async () => {
    const state = await flow.start(ALICE);
    const refused = { exchange: () => Promise.reject(new OauthCodeRefused('bad code')) };
    await expect(flow.complete({ state, code: 'c' }, refused)).resolves.toEqual({
      kind: 'codeRefused',
    });
    const down = { exchange: () => Promise.reject(new Error('ECONNREFUSED')) };
    await expect(flow.complete({ state, code: 'c' }, down)).resolves.toEqual({
      kind: 'exchangeFailed',
    });
    expect(logs.text()).toContain('ECONNREFUSED');
    expect(await store.token('jira', ALICE)).toBeNull();
  });

  it('when the exchange succeeds then linked, the token is kept sealed and the state is spent', async () => {
    const state = await flow.start(ALICE);
    await expect(flow.complete({ state, code: 'c' }, exchange())).resolves.toEqual({
      kind: 'linked',
      userId: ALICE,
    });
    expect(await store.token('jira', ALICE)).toEqual(TOKEN);
    expect(JSON.stringify(await db.knex('user_token'))).not.toContain(TOKEN.accessToken);
    // A replayed callback URL logs nobody in again.
    await expect(flow.complete({ state, code: 'c' }, exchange())).resolves.toEqual({
      kind: 'unknownState',
    });
  });
});
