import { loginAnswer } from '../../src/clients/login-answer';

const CREDENTIALS = { user_id: '@bot:example.org', access_token: 'token', device_id: 'DEV' };
const EMPTY = { 'm.homeserver': {}, 'm.identity_server': {}, 'm.integrations': { managers: [] } };

describe('login answers as maubot passes them on', () => {
  it('when the homeserver sends no well_known (registration), then empty discovery entries', () => {
    expect(loginAnswer({ ...CREDENTIALS, home_server: 'example.org' })).toEqual({
      ...CREDENTIALS,
      well_known: EMPTY,
      home_server: 'example.org',
    });
  });

  it('when the homeserver sends its base URL, then it is kept and the other entries added', () => {
    const answer = loginAnswer({
      ...CREDENTIALS,
      well_known: { 'm.homeserver': { base_url: 'https://matrix.example.org/' } },
    });
    expect(answer.well_known).toEqual({
      ...EMPTY,
      'm.homeserver': { base_url: 'https://matrix.example.org/' },
    });
  });

  it('when an identity server and extra keys come with the base URL, then they are kept', () => {
    const wellKnown = {
      'm.homeserver': { base_url: 'https://hs/', 'org.example.extra': 1 },
      'm.identity_server': { base_url: 'https://is/' },
      'org.example.key': { a: 1 },
    };
    expect(loginAnswer({ ...CREDENTIALS, well_known: wellKnown }).well_known).toEqual({
      ...wellKnown,
      'm.integrations': { managers: [] },
    });
  });

  it.each([
    ['only unknown keys', { 'org.example.key': { a: 1 } }],
    ['entries without base_url', { 'm.homeserver': { other: 1 }, 'm.integrations': { x: 1 } }],
    ['integration managers (read as a base_url entry)', { 'm.integrations': { managers: [{}] } }],
    ['null', null],
    ['not an object', 'https://hs/'],
  ])('when well_known has %s, then the entries are the empty ones', (_name, wellKnown) => {
    expect(loginAnswer({ ...CREDENTIALS, well_known: wellKnown }).well_known).toEqual(EMPTY);
  });

  it('when base_url is null, then the entry has no base_url', () => {
    const answer = loginAnswer({
      ...CREDENTIALS,
      well_known: { 'm.homeserver': { base_url: null } },
    });
    expect(answer.well_known).toEqual(EMPTY);
  });

  it('the keys come in maubot order: user_id, device_id, access_token, well_known, the rest', () => {
    const answer = loginAnswer({ home_server: 'example.org', ...CREDENTIALS, expires_in_ms: 5 });
    expect(Object.keys(answer)).toEqual([
      'user_id',
      'device_id',
      'access_token',
      'well_known',
      'home_server',
      'expires_in_ms',
    ]);
  });
});
