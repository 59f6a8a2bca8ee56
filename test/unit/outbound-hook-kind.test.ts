import { ConnectionError } from '../../src/bridge/connection-errors';
import { OUTBOUND_HOOK, type StoredConnection } from '../../src/bridge/connection-types';
import { OutboundHookKind } from '../../src/outbound/outbound-hook-kind';
import { testConfig } from '../helpers/config';

const ROOM = '!room:switchboard.test';
const USER = '@alice:switchboard.test';
const TOKEN = /^hs-ob-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const publicKind = () => new OutboundHookKind({ config: testConfig() });
const privateKind = () =>
  new OutboundHookKind({ config: testConfig({ allowPrivateDestinations: true }) });

function stored(overrides: Partial<StoredConnection> = {}): StoredConnection {
  return {
    id: 'abc',
    roomId: ROOM,
    eventType: OUTBOUND_HOOK.eventType,
    stateKey: 'hook',
    type: 'Webhook',
    service: 'genericOutbound',
    config: { name: 'hook', url: 'http://127.0.0.1:9/in', method: 'PUT' },
    secrets: { token: 'hs-ob-existing' },
    createdBy: USER,
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<ConnectionError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ConnectionError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const create = (body: Record<string, unknown>, existing: StoredConnection[] = []) =>
  privateKind().create({ roomId: ROOM, userId: USER, body, existing });

describe('OutboundHookKind', () => {
  it('declares the outbound hook type with a disabled tombstone', () => {
    const kind = publicKind();
    expect(kind.declaration).toBe(OUTBOUND_HOOK);
    expect(kind.tombstone).toEqual({ disabled: true });
  });

  describe('create', () => {
    it('when the body is valid then the state key is the name and a fresh token is made', async () => {
      const prepared = await create({ name: 'my-hook', url: 'http://127.0.0.1:8080/x' });
      expect(prepared.stateKey).toBe('my-hook');
      expect(prepared.config).toEqual({
        name: 'my-hook',
        url: 'http://127.0.0.1:8080/x',
        method: 'PUT',
      });
      expect(Object.keys(prepared.secrets ?? {})).toEqual(['token']);
      expect(prepared.secrets?.token).toMatch(TOKEN);
      const again = await create({ name: 'my-hook', url: 'http://127.0.0.1:8080/x' });
      expect(again.secrets?.token).not.toBe(prepared.secrets?.token);
    });

    it('when method POST is given then it is kept; unknown body keys are dropped', async () => {
      const prepared = await create({
        name: 'abc',
        url: 'https://127.0.0.1/x',
        method: 'POST',
        extra: 1,
      });
      expect(prepared.config).toEqual({ name: 'abc', url: 'https://127.0.0.1/x', method: 'POST' });
    });

    it('when a hook of that name exists then its token is kept (no secrets returned)', async () => {
      const prepared = await create({ name: 'hook', url: 'http://127.0.0.1:1/new' }, [stored()]);
      expect(prepared.stateKey).toBe('hook');
      expect(prepared.config.url).toBe('http://127.0.0.1:1/new');
      expect(prepared).not.toHaveProperty('secrets');
    });

    it('when a hook of another name exists then a new token is made', async () => {
      const prepared = await create({ name: 'other', url: 'http://127.0.0.1:1/' }, [stored()]);
      expect(prepared.secrets?.token).toMatch(TOKEN);
    });

    it.each([
      [{ url: 'http://127.0.0.1/' }, 'A webhook name must be a string.'],
      [{ name: 5, url: 'http://127.0.0.1/' }, 'A webhook name must be a string.'],
      [{ name: 'ab', url: 'http://127.0.0.1/' }, 'A webhook name must be between 3-64 characters.'],
      [
        { name: 'x'.repeat(65), url: 'http://127.0.0.1/' },
        'A webhook name must be between 3-64 characters.',
      ],
      [{ name: 'hook' }, 'Outbound URL must be a string'],
      [{ name: 'hook', url: 42 }, 'Outbound URL must be a string'],
      [{ name: 'hook', url: 'not a url' }, 'Outbound URL is invalid'],
      [{ name: 'hook', url: 'ftp://127.0.0.1/x' }, 'Outbound URL protocol must be http or https'],
      [
        { name: 'hook', url: 'http://127.0.0.1/', method: 'GET' },
        'Outbound Method must be one of PUT,POST',
      ],
      [
        { name: 'hook', url: 'http://127.0.0.1/', method: 'put' },
        'Outbound Method must be one of PUT,POST',
      ],
      [
        { name: 'hook', url: 'http://127.0.0.1/', method: 7 },
        'Outbound Method must be one of PUT,POST',
      ],
    ])('when the body is %j then 400 HS_BAD_VALUE %j', async (body, message) => {
      const err = await refusal(create(body));
      expect(err.errcode).toBe('HS_BAD_VALUE');
      expect(err.message).toBe(message);
    });

    it('when method is null then it defaults to PUT', async () => {
      const prepared = await create({ name: 'hook', url: 'http://127.0.0.1/', method: null });
      expect(prepared.config.method).toBe('PUT');
    });

    it('accepts names of exactly 3 and 64 characters', async () => {
      await expect(create({ name: 'abc', url: 'http://127.0.0.1/' })).resolves.toMatchObject({
        stateKey: 'abc',
      });
      const long = 'y'.repeat(64);
      await expect(create({ name: long, url: 'http://127.0.0.1/' })).resolves.toMatchObject({
        stateKey: long,
      });
    });

    it.each([
      'http://127.0.0.1:8080/',
      'http://10.1.2.3/',
      'http://192.168.0.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data',
    ])('when private destinations are not allowed then %s is refused', async (url) => {
      const err = await refusal(
        publicKind().create({
          roomId: ROOM,
          userId: USER,
          body: { name: 'hook', url },
          existing: [],
        }),
      );
      expect(err.errcode).toBe('HS_BAD_VALUE');
      expect(err.message).toBe('Outbound URL must not point to a private address');
    });

    it('when private destinations are not allowed then a public address is accepted', async () => {
      const prepared = await publicKind().create({
        roomId: ROOM,
        userId: USER,
        body: { name: 'hook', url: 'https://93.184.215.14/in' },
        existing: [],
      });
      expect(prepared.config.url).toBe('https://93.184.215.14/in');
    });

    it('when the host does not resolve then it is refused with its own message', async () => {
      const err = await refusal(
        publicKind().create({
          roomId: ROOM,
          userId: USER,
          body: { name: 'hook', url: 'https://no-such-host.invalid/in' },
          existing: [],
        }),
      );
      expect(err.errcode).toBe('HS_BAD_VALUE');
      expect(err.message).toBe('Outbound URL host could not be resolved');
    });
  });

  describe('update', () => {
    it('merges the body over the config and keeps the state key and token', async () => {
      const prepared = await privateKind().update({
        userId: USER,
        current: stored(),
        body: { method: 'POST' },
      });
      expect(prepared).toEqual({
        stateKey: 'hook',
        config: { name: 'hook', url: 'http://127.0.0.1:9/in', method: 'POST' },
      });
    });

    it('does not re-check the name length', async () => {
      const prepared = await privateKind().update({
        userId: USER,
        current: stored(),
        body: { name: 'ab' },
      });
      expect(prepared.config.name).toBe('ab');
      expect(prepared.stateKey).toBe('hook');
    });

    it.each([
      [{ url: 'mailto:a@b.c' }, 'Outbound URL protocol must be http or https'],
      [{ url: '::' }, 'Outbound URL is invalid'],
      [{ method: 'DELETE' }, 'Outbound Method must be one of PUT,POST'],
      [{ name: null }, 'A webhook name must be a string.'],
    ])('when the merged body is bad (%j) then 400 %j', async (body, message) => {
      const err = await refusal(privateKind().update({ userId: USER, current: stored(), body }));
      expect(err.errcode).toBe('HS_BAD_VALUE');
      expect(err.message).toBe(message);
    });

    it('when the new URL is private and that is not allowed then it is refused', async () => {
      const err = await refusal(
        publicKind().update({ userId: USER, current: stored(), body: { method: 'POST' } }),
      );
      expect(err.message).toBe('Outbound URL must not point to a private address');
    });
  });

  describe('secrets', () => {
    it('shows the stored token', async () => {
      await expect(publicKind().secrets(stored())).resolves.toEqual({
        shown: { token: 'hs-ob-existing' },
      });
    });

    it('shows nothing when no token is stored', async () => {
      await expect(publicKind().secrets(stored({ secrets: null }))).resolves.toEqual({});
    });
  });
});
