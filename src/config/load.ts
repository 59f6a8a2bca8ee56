import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import bcrypt from 'bcryptjs';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { configSchema, type Config } from './schema';
import { renderConfig } from './template';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface FirstStart {
  adminName: string;
  adminPassword: string;
}

export interface LoadedConfig {
  config: Config;
  path: string;
  /** Set on a first start: the config was written now, with this admin login. */
  firstStart?: FirstStart;
  /** Admins whose plain-text password was hashed and written back. */
  hashedAdmins: string[];
  /** Settings that work but should be changed, for the log. */
  warnings: string[];
}

/** An unshared secret shorter than this is accepted, with a warning. */
export const SHORT_SECRET_LENGTH = 16;

const BCRYPT_HASH = /^\$2[aby]\$.{56}$/;
const ENV_OVERRIDES: [string, string[]][] = [
  ['DATABASE_URL', ['database', 'url']],
  ['SWITCHBOARD_DATA_DIR', ['dataDir']],
  ['SWITCHBOARD_UNSHARED_SECRET', ['server', 'unsharedSecret']],
  ['SWITCHBOARD_PROVISIONING_SECRET', ['provisioning', 'secret']],
  ['SWITCHBOARD_ENCRYPTION_KEY', ['encryptionKey']],
];

export function randomToken(length = 64): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function formatZodError(error: ZodError): string {
  const where = (path: PropertyKey[]) => (path.length ? path.map(String).join('.') : '(root)');
  return error.issues
    .flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => `${where([...i.path, key])}: unknown key`)
        : [`${where(i.path)}: ${i.message}`],
    )
    .join('; ');
}

/** Validates a plain object as configuration; errors name the dotted path of each bad key. */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(`Invalid ${source}: ${formatZodError(result.error)}`);
  }
  return result.data;
}

function setPath(target: Record<string, unknown>, path: string[], value: string): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** The parser's message without the excerpt it quotes below: the error is one line. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/:$/, '');
}

/** `--config`, else SWITCHBOARD_CONFIG, else config.yaml in the data directory. */
function configPath(options: { path?: string | undefined; env: NodeJS.ProcessEnv }): {
  path: string;
  explicit: boolean;
} {
  const given = options.path ?? options.env.SWITCHBOARD_CONFIG;
  const dataDir = options.env.SWITCHBOARD_DATA_DIR ?? './data';
  return { path: resolve(given ?? join(dataDir, 'config.yaml')), explicit: given !== undefined };
}

/**
 * Sets an admin's password in the config file (its bcrypt hash, comments kept), for an admin
 * who lost it; a running server reads it at its next start. Returns the file's path.
 */
export async function setAdminPassword(options: {
  path?: string | undefined;
  env: NodeJS.ProcessEnv;
  name: string;
  password: string;
}): Promise<string> {
  const { path } = configPath(options);
  if (!existsSync(path)) {
    throw new ConfigError(`Config file not found: ${path} (a first start writes it)`);
  }
  if (options.name === 'root') {
    throw new ConfigError('"root" has no password: it logs in with server.unsharedSecret');
  }
  if (options.password.length < 8) {
    throw new ConfigError('the password must have at least 8 characters');
  }
  const doc = parseDocument(await readFile(path, 'utf8'), { customTags: [] });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `Config file ${path} is not valid YAML: ${firstLine(doc.errors[0]!.message)}`,
    );
  }
  doc.setIn(['admins', options.name], await bcrypt.hash(options.password, 12));
  await writeFile(path, doc.toString(), { mode: 0o600 });
  return path;
}

/**
 * Finds, creates (on a first start) and validates the config file, and hashes plain-text
 * admin passwords in place as maubot does.
 */
export async function loadConfig(options: {
  path?: string | undefined;
  env: NodeJS.ProcessEnv;
  /**
   * Called on a first start with the generated login before the config holding only its hash is
   * written: a start interrupted before the password was shown leaves no config behind, and the
   * next start is a first start again.
   */
  onFirstStart?: (login: FirstStart, config: Config, path: string) => void;
}): Promise<LoadedConfig> {
  const { env } = options;
  const { path, explicit } = configPath(options);
  let firstStart: LoadedConfig['firstStart'];
  let text: string;
  if (existsSync(path)) {
    text = await readFile(path, 'utf8');
  } else {
    if (explicit) throw new ConfigError(`Config file not found: ${path}`);
    firstStart = { adminName: 'admin', adminPassword: randomToken(20) };
    text = renderConfig({
      unsharedSecret: randomToken(),
      provisioningSecret: randomToken(),
      encryptionKey: randomBytes(32).toString('base64'),
      adminName: firstStart.adminName,
      adminPassword: await bcrypt.hash(firstStart.adminPassword, 12),
    });
  }

  const doc = parseDocument(text, { customTags: [] });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `Config file ${path} is not valid YAML: ${firstLine(doc.errors[0]!.message)}`,
    );
  }
  const raw = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`Config file ${path} must be a YAML mapping`);
  }
  for (const [name, keyPath] of ENV_OVERRIDES) {
    const value = env[name];
    if (value) setPath(raw, keyPath, value);
  }
  const config = parseConfig(raw, `config file ${path}`);
  const port = env.SWITCHBOARD_PORT;
  if (port) {
    // Containers and platforms pick the port; it replaces the first listener's.
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      throw new ConfigError(`SWITCHBOARD_PORT must be a port number, not ${JSON.stringify(port)}`);
    }
    config.listeners[0]!.port = Number(port);
  }
  if (env.SWITCHBOARD_BIND_ADDRESS) config.listeners[0]!.bindAddress = env.SWITCHBOARD_BIND_ADDRESS;
  const placeholders = placeholderKeys(raw, config);
  if (placeholders.length > 0) {
    throw new ConfigError(
      `Config file ${path} still has the sample's placeholder values: ` +
        `${placeholders.join(', ')}. Replace each with a value of your own ` +
        '(random secrets: openssl rand -base64 32) and start again',
    );
  }
  if (firstStart) {
    options.onFirstStart?.(firstStart, config, path);
    // Normally the data directory: only Switchboard's OS user may enter it.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Written whole or not at all: a start killed half-way leaves no truncated config.
    const partial = `${path}.${process.pid}.tmp`;
    await writeFile(partial, text, { mode: 0o600 });
    await rename(partial, path);
  }

  const hashedAdmins: string[] = [];
  for (const [name, value] of Object.entries(config.admins)) {
    if (value === '' || BCRYPT_HASH.test(value)) continue;
    // The documented example password must never work: replace it with an unknown one.
    const plain = value === 'password' ? randomToken() : value;
    const hash = await bcrypt.hash(plain, 12);
    config.admins[name] = hash;
    doc.setIn(['admins', name], hash);
    hashedAdmins.push(name);
  }
  if (hashedAdmins.length > 0) await writeFile(path, doc.toString(), { mode: 0o600 });

  return {
    config,
    path,
    hashedAdmins,
    warnings: warnings(config),
    ...(firstStart ? { firstStart } : {}),
  };
}

/**
 * Keys still holding a value of config.sample.yaml that must be replaced: its "replace-with-..."
 * strings anywhere (secrets, and the admin password, which would let anyone log in) and an
 * all-zero encryption key.
 */
function placeholderKeys(raw: Record<string, unknown>, config: Config): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string[]): void => {
    if (typeof value === 'string' && value.startsWith(PLACEHOLDER_PREFIX)) {
      found.push(path.join('.'));
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
    }
  };
  visit(raw, []);
  const zeroKey = (key: string) => Buffer.from(key, 'base64').every((byte) => byte === 0);
  if (zeroKey(config.encryptionKey)) found.push('encryptionKey (all zeros)');
  config.previousEncryptionKeys.forEach((key, i) => {
    if (zeroKey(key)) found.push(`previousEncryptionKeys.${i} (all zeros)`);
  });
  return found;
}

const PLACEHOLDER_PREFIX = 'replace-with-';

function warnings(config: Config): string[] {
  const found: string[] = [];
  if (config.server.unsharedSecret.length < SHORT_SECRET_LENGTH) {
    found.push(
      `server.unsharedSecret is shorter than ${SHORT_SECRET_LENGTH} characters, which makes ` +
        'management tokens easier to forge; a longer random secret is safer (tokens signed ' +
        'with the current one then stop working)',
    );
  }
  return found;
}
