import request from 'supertest';
import { AdminAuthService } from '../../src/admins/admin-auth-service';
import { ThreadPoolPasswordChecker } from '../../src/admins/password-checker';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_PASSWORD, TEST_PASSWORD_HASH, TEST_SECRET, testConfig } from '../helpers/config';
import { expectAnswer } from '../helpers/answers';

const LOGIN = '/_matrix/maubot/v1/auth/login';
const LIMITED = {
  errcode: 'login_rate_limited',
  error: 'Too many failed login attempts; try again later',
};

describe('login rate limits', () => {
  let t: TestApp;
  afterEach(() => t.close());

  const appWithLimits = (perAddress: number, perUser: number, trustedProxies: string[] = []) =>
    createTestApp('embedded', {
      config: testConfig({
        server: {
          unsharedSecret: TEST_SECRET,
          loginRateLimit: { windowSeconds: 60, perAddress, perUser },
          trustedProxies,
        },
      }),
    });
  const login = (username: string, password: string, forwardedFor?: string) => {
    const req = request(t.app).post(LOGIN);
    if (forwardedFor !== undefined) void req.set('X-Forwarded-For', forwardedFor);
    return req.send({ username, password });
  };

  it('when one address fails more than perAddress times, then 429 with Retry-After, even for the right password', async () => {
    t = await appWithLimits(3, 100);
    // Successful logins do not count.
    for (let i = 0; i < 5; i++) expect((await login('admin', TEST_PASSWORD)).status).toBe(200);
    for (const name of ['admin', 'ghost', 'nopassword']) {
      expect((await login(name, 'wrong')).status).toBe(401);
    }
    for (const [name, password] of [
      ['admin', 'wrong'],
      ['admin', TEST_PASSWORD],
    ]) {
      const res = await login(name!, password!);
      expectAnswer(res, 429, LIMITED);
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
  }, 90_000);

  it('when behind a trusted proxy, then failures count per forwarded client address', async () => {
    t = await appWithLimits(2, 100, ['loopback']);
    for (let i = 0; i < 2; i++) {
      expect((await login('ghost', 'wrong', '203.0.113.7')).status).toBe(401);
    }
    expectAnswer(await login('admin', TEST_PASSWORD, '203.0.113.7'), 429, LIMITED);
    // Another client behind the same proxy, and one the proxy appended to a forged list.
    expect((await login('admin', TEST_PASSWORD, '203.0.113.8')).status).toBe(200);
    expect((await login('admin', TEST_PASSWORD, '203.0.113.7, 203.0.113.9')).status).toBe(200);
  }, 90_000);

  it('when the peer is not a trusted proxy, then a forged X-Forwarded-For does not reset the count', async () => {
    t = await appWithLimits(2, 100, ['10.0.0.0/8']);
    for (let i = 0; i < 2; i++) {
      expect((await login('ghost', 'wrong', `198.51.100.${i}`)).status).toBe(401);
    }
    expectAnswer(await login('admin', TEST_PASSWORD, '198.51.100.99'), 429, LIMITED);
  }, 90_000);

  it('when one admin name fails more than perUser times, then 429 for that name only', async () => {
    t = await appWithLimits(100, 2);
    expect((await login('admin', 'wrong')).status).toBe(401);
    expect((await login('admin', 'wrong')).status).toBe(401);
    const limited = await login('admin', TEST_PASSWORD);
    expectAnswer(limited, 429, LIMITED);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another name from the same address is still checked.
    const other = await login('nopassword', 'wrong');
    expect(other.status).toBe(401);
    expect(other.body.errcode).toBe('invalid_auth');
  }, 90_000);
});

/** Records every comparison the service asks for, and really makes it. */
class RecordingChecker extends ThreadPoolPasswordChecker {
  readonly compared: { password: string; hash: string; matched: boolean }[] = [];

  override async verify(password: string, hash: string): Promise<boolean> {
    const matched = await super.verify(password, hash);
    this.compared.push({ password, hash, matched });
    return matched;
  }
}

describe('password checks', () => {
  // TEST_PASSWORD_HASH has cost 4: the decoy must cost the same.
  const admins = { admin: TEST_PASSWORD_HASH, nopassword: '' };

  it.each([
    ['an unknown name', 'ghost'],
    ['an admin without a password', 'nopassword'],
    ['root', 'root'],
  ])('when %s logs in, then a real bcrypt comparison of the same cost runs', async (_n, name) => {
    const checker = new RecordingChecker();
    const service = new AdminAuthService(TEST_SECRET, admins, checker);
    expect(await service.login({ username: name, password: 'guess' })).toBeNull();
    expect(checker.compared).toHaveLength(1);
    const [check] = checker.compared;
    expect(check!.password).toBe('guess');
    expect(check!.hash).toMatch(/^\$2[aby]\$04\$[./A-Za-z0-9]{53}$/);
    expect(check!.hash).not.toBe(TEST_PASSWORD_HASH);
    expect(check!.matched).toBe(false);
  });

  it('when a known admin logs in, then exactly one comparison with its own hash runs', async () => {
    const checker = new RecordingChecker();
    const service = new AdminAuthService(TEST_SECRET, admins, checker);
    expect(await service.login({ username: 'admin', password: 'guess' })).toBeNull();
    expect(await service.login({ username: 'admin', password: TEST_PASSWORD })).not.toBeNull();
    expect(checker.compared.map((c) => [c.hash, c.matched])).toEqual([
      [TEST_PASSWORD_HASH, false],
      [TEST_PASSWORD_HASH, true],
    ]);
  });

  it('compares off the event loop: the loop keeps turning while a costly hash is checked', async () => {
    const checker = new ThreadPoolPasswordChecker();
    const costly = await checker.decoy(12);
    let turns = 0;
    let done = false;
    const spin = () => {
      turns++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    await checker.verify('guess', costly);
    done = true;
    // bcrypt on the event loop would leave it a handful of turns at most (none when synchronous).
    expect(turns).toBeGreaterThan(100);
  });

  it('runs at most two comparisons at once; the rest wait their turn', async () => {
    const checker = new ThreadPoolPasswordChecker(2);
    const hash = await checker.decoy(4);
    const inner = checker as unknown as { running: number; waiting: unknown[] };
    let most = 0;
    const all = Array.from({ length: 10 }, () =>
      checker.verify('guess', hash).then(() => (most = Math.max(most, inner.running))),
    );
    expect(inner.running).toBe(2);
    expect(inner.waiting).toHaveLength(8);
    await Promise.all(all);
    expect(most).toBeLessThanOrEqual(2);
    expect(inner.running).toBe(0);
  });
});
