import { createHmac } from 'node:crypto';
import { signToken, verifyToken } from '../../src/admins/token';

const SECRET = 'maubot-compat-test-secret';
// Made with maubot's algorithm (Python json.dumps + urlsafe base64 + HMAC-SHA256 of the
// padded payload) for created_at 1700000000; "alice" has two padding characters, "bob" one.
const MAUBOT_TOKENS = {
  admin:
    'etkB6Z2Xa-h50g2lnh7luwaVJ_0z7wBmMK2P5lUaNRQ:eyJ1c2VyX2lkIjogImFkbWluIiwgImNyZWF0ZWRfYXQiOiAxNzAwMDAwMDAwfQ',
  alice:
    'OiuK_IbqHFlorsALxFKIxTH698yxgaCGFYX2SeLA7vQ:eyJ1c2VyX2lkIjogImFsaWNlIiwgImNyZWF0ZWRfYXQiOiAxNzAwMDAwMDAwfQ',
  bob: 'ZRk6aSR5_TvpKdADpy3MFJxhnNm-FlUGxR5-JcnvYZQ:eyJ1c2VyX2lkIjogImJvYiIsICJjcmVhdGVkX2F0IjogMTcwMDAwMDAwMH0',
};

describe('maubot signed tokens', () => {
  it.each(Object.entries(MAUBOT_TOKENS))(
    'when maubot signed a token for %s, then it verifies',
    (user, token) => {
      expect(verifyToken(SECRET, token)).toBe(user);
    },
  );

  it.each(Object.entries(MAUBOT_TOKENS))(
    'when Switchboard signs for %s at the same time, then the token is byte-identical',
    (user, token) => {
      expect(signToken(SECRET, user, 1700000000_000)).toBe(token);
    },
  );

  it('when the payload is changed, then verification fails', () => {
    const [sig] = MAUBOT_TOKENS.admin.split(':');
    const forged = Buffer.from('{"user_id": "root", "created_at": 1700000000}').toString(
      'base64url',
    );
    expect(verifyToken(SECRET, `${sig}:${forged}`)).toBeNull();
  });

  it('when the signature is changed, then verification fails', () => {
    const token = MAUBOT_TOKENS.admin;
    const tampered = (token[0] === 'a' ? 'b' : 'a') + token.slice(1);
    expect(verifyToken(SECRET, tampered)).toBeNull();
  });

  it('when another secret signed it, then verification fails', () => {
    expect(verifyToken('another-secret-entirely', MAUBOT_TOKENS.admin)).toBeNull();
  });

  it.each(['', 'undefined', ':', 'abc:', ':abc', 'no-separator'])(
    'when the token is %j, then it is rejected',
    (t) => {
      expect(verifyToken(SECRET, t)).toBeNull();
    },
  );

  it('when the signed payload is not an object with a user_id, then it is rejected', () => {
    for (const json of ['[]', '"x"', '{"created_at": 1}', '{"user_id": 5}', 'not json']) {
      const payload = Buffer.from(json).toString('base64url');
      const padded = payload + '='.repeat((4 - (payload.length % 4)) % 4);
      const sig = createHmac('sha256', SECRET).update(padded).digest('base64url');
      expect(verifyToken(SECRET, `${sig}:${payload}`)).toBeNull();
    }
  });
});
