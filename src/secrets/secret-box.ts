import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A value sealed with AES-256-GCM; `keyId` names the key so old values open after rotation. */
export interface SealedSecret {
  keyId: string;
  /** base64 of IV (12 bytes) ‖ auth tag (16 bytes) ‖ ciphertext. */
  ciphertext: string;
}

export class SecretKeyUnknownError extends Error {
  override name = 'SecretKeyUnknownError';
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A short, stable, non-secret name for a key: the first 16 hex digits of its SHA-256. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Encrypts secrets stored in the database. New values use the current key; values sealed with
 * a previous key still open, and `needsResealing` tells which ones to rewrite.
 */
export class SecretBox {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** Keys are base64 of 32 bytes; the first is current, the rest only decrypt. */
  constructor(current: string, previous: readonly string[] = []) {
    const currentKey = Buffer.from(current, 'base64');
    this.currentKeyId = keyIdOf(currentKey);
    for (const key of [currentKey, ...previous.map((k) => Buffer.from(k, 'base64'))]) {
      if (key.length !== 32) throw new Error('encryption keys must be 32 bytes');
      this.keys.set(keyIdOf(key), key);
    }
  }

  seal(plaintext: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: this.currentKeyId,
      ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'),
    };
  }

  open(sealed: SealedSecret): string {
    const key = this.keys.get(sealed.keyId);
    if (!key) {
      throw new SecretKeyUnknownError(
        `a stored secret was encrypted with key ${sealed.keyId}, which is not configured`,
      );
    }
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }

  needsResealing(sealed: SealedSecret): boolean {
    return sealed.keyId !== this.currentKeyId;
  }
}
