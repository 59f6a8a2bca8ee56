import bcrypt from 'bcryptjs';
import { parseConfig } from '../../src/config/load';
import type { Config, ConfigInput } from '../../src/config/schema';

export const TEST_SECRET = 'maubot-compat-test-secret';
export const TEST_PROVISIONING_SECRET = 'provisioning-test-secret';
export const TEST_PASSWORD = 'correct horse battery staple';
// Cost 4 keeps tests fast; the hash format is the same as in production.
export const TEST_PASSWORD_HASH = bcrypt.hashSync(TEST_PASSWORD, 4);

export function testConfig(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig({
    server: { unsharedSecret: TEST_SECRET },
    encryptionKey: Buffer.alloc(32, 7).toString('base64'),
    provisioning: { secret: TEST_PROVISIONING_SECRET, botUserId: '@bot:switchboard.test' },
    admins: { admin: TEST_PASSWORD_HASH, nopassword: '' },
    logging: { level: 'silent' },
    ...overrides,
  });
}
