import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { parseConfig } from '../../src/config/load';
import type { Config, ConfigInput } from '../../src/config/schema';

export const TEST_SECRET = 'maubot-compat-test-secret';
export const TEST_PROVISIONING_SECRET = 'provisioning-test-secret';
export const TEST_PASSWORD = 'correct horse battery staple';
// Cost 4 keeps tests fast; the hash format is the same as in production.
export const TEST_PASSWORD_HASH = bcrypt.hashSync(TEST_PASSWORD, 4);

/** One data directory per test file (upload spool files live there), removed at exit. */
export const TEST_DATA_DIR = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
process.once('exit', () => rmSync(TEST_DATA_DIR, { recursive: true, force: true }));

export function testConfig(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig({
    dataDir: TEST_DATA_DIR,
    server: { unsharedSecret: TEST_SECRET },
    encryptionKey: Buffer.alloc(32, 7).toString('base64'),
    provisioning: { secret: TEST_PROVISIONING_SECRET, botUserId: '@bot:switchboard.test' },
    admins: { admin: TEST_PASSWORD_HASH, nopassword: '' },
    logging: { level: 'silent' },
    ...overrides,
  });
}
