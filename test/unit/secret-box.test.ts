import { randomBytes } from 'node:crypto';
import { SecretBox, SecretKeyUnknownError, keyIdOf } from '../../src/secrets/secret-box';

const key = () => randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('when a value is sealed, then it opens to the same text and the ciphertext hides it', () => {
    const box = new SecretBox(key());
    const sealed = box.seal('syt_secret_token');
    expect(sealed.ciphertext).not.toContain('syt_secret_token');
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('latin1')).not.toContain('syt_');
    expect(box.open(sealed)).toBe('syt_secret_token');
  });

  it('when the same value is sealed twice, then the ciphertexts differ (fresh IV)', () => {
    const box = new SecretBox(key());
    expect(box.seal('x').ciphertext).not.toBe(box.seal('x').ciphertext);
  });

  it('when sealed, then the key id names the current key', () => {
    const current = key();
    const box = new SecretBox(current);
    expect(box.seal('x').keyId).toBe(keyIdOf(Buffer.from(current, 'base64')));
    expect(box.currentKeyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('when the key rotates, then old values open with the previous key and need resealing', () => {
    const oldKey = key();
    const sealed = new SecretBox(oldKey).seal('old secret');
    const rotated = new SecretBox(key(), [oldKey]);
    expect(rotated.open(sealed)).toBe('old secret');
    expect(rotated.needsResealing(sealed)).toBe(true);
    expect(rotated.needsResealing(rotated.seal('new'))).toBe(false);
  });

  it('when the sealing key is not configured, then opening says which key is missing', () => {
    const sealed = new SecretBox(key()).seal('x');
    expect(() => new SecretBox(key()).open(sealed)).toThrow(SecretKeyUnknownError);
    expect(() => new SecretBox(key()).open(sealed)).toThrow(sealed.keyId);
  });

  it('when the ciphertext was tampered with, then opening fails', () => {
    const box = new SecretBox(key());
    const sealed = box.seal('value');
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open({ ...sealed, ciphertext: raw.toString('base64') })).toThrow();
  });

  it('when a key is not 32 bytes, then the box refuses it', () => {
    expect(() => new SecretBox(Buffer.alloc(16).toString('base64'))).toThrow('32 bytes');
  });
});
