import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load';
import { SAMPLE_VALUES, renderConfig } from '../../src/config/template';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'switchboard-config-'));
}

const MINIMAL = `
server:
  unsharedSecret: a-long-enough-unshared-secret
encryptionKey: ${Buffer.alloc(32, 1).toString('base64')}
provisioning:
  secret: a-long-enough-provisioning-secret
`;

describe('config loading', () => {
  it('when there is no config on a first start, then one is written with random secrets and a working admin login', async () => {
    const dir = await tempDir();
    const loaded = await loadConfig({ env: { SWITCHBOARD_DATA_DIR: dir } });
    expect(loaded.path).toBe(join(dir, 'config.yaml'));
    expect(loaded.firstStart?.adminName).toBe('admin');
    const text = await readFile(loaded.path, 'utf8');
    expect(text).not.toContain(loaded.firstStart!.adminPassword);
    expect((await stat(loaded.path)).mode & 0o777).toBe(0o600);
    const hash = loaded.config.admins.admin!;
    expect(await bcrypt.compare(loaded.firstStart!.adminPassword, hash)).toBe(true);
    expect(loaded.config.server.unsharedSecret).toMatch(/^[a-z0-9]{64}$/);
    expect(loaded.config.provisioning.secret).not.toBe(loaded.config.server.unsharedSecret);

    const again = await loadConfig({ env: { SWITCHBOARD_DATA_DIR: dir } });
    expect(again.firstStart).toBeUndefined();
    expect(again.config.server.unsharedSecret).toBe(loaded.config.server.unsharedSecret);
    expect(again.config.encryptionKey).toBe(loaded.config.encryptionKey);
  });

  it('when an admin password is plain text, then it is hashed and written back with comments kept', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, `${MINIMAL}admins:\n  # the operator\n  alice: s3cret-pass\n  bob: ''\n`);
    const loaded = await loadConfig({ path, env: {} });
    expect(loaded.hashedAdmins).toEqual(['alice']);
    const text = await readFile(path, 'utf8');
    expect(text).toContain('# the operator');
    const written = parse(text) as { admins: Record<string, string> };
    expect(written.admins.alice).toMatch(/^\$2[aby]\$12\$/);
    expect(await bcrypt.compare('s3cret-pass', written.admins.alice!)).toBe(true);
    expect(written.admins.bob).toBe('');
    expect((await loadConfig({ path, env: {} })).hashedAdmins).toEqual([]);
  });

  it('when the admin password is the example value "password", then it never works', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, `${MINIMAL}admins:\n  admin: password\n`);
    const { config } = await loadConfig({ path, env: {} });
    expect(await bcrypt.compare('password', config.admins.admin!)).toBe(false);
  });

  it.each([
    [
      'a port that is a string',
      'listeners:\n  - port: http\n    resources: [maubot]\n',
      'listeners.0.port',
    ],
    [
      'an unknown resource',
      'listeners:\n  - port: 1\n    resources: [ftp]\n',
      'listeners.0.resources.0',
    ],
    ['an unknown key', 'servre:\n  publicUrl: x\n', 'servre'],
    ['an unknown nested key', 'database:\n  uri: x\n', 'database.uri'],
    ['a bad webhook urlPrefix', 'webhooks:\n  urlPrefix: not a url\n', 'webhooks.urlPrefix'],
  ])('when the file has %s, then startup stops naming the key', async (_name, extra, key) => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, MINIMAL + extra);
    const err = await loadConfig({ path, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`${key}: `);
    expect((err as Error).message).toContain(path);
  });

  it('when a secret is too short, then the message names provisioning.secret', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, MINIMAL.replace('a-long-enough-provisioning-secret', 'short'));
    await expect(loadConfig({ path, env: {} })).rejects.toThrow(
      'provisioning.secret: must be at least 16 characters',
    );
  });

  it('when the unshared secret is short (kept from a maubot), then it is accepted with a warning', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, MINIMAL.replace('a-long-enough-unshared-secret', 'maubot-short'));
    const loaded = await loadConfig({ path, env: {} });
    expect(loaded.config.server.unsharedSecret).toBe('maubot-short');
    expect(loaded.warnings).toEqual([
      expect.stringMatching(/^server\.unsharedSecret is shorter than 16 characters/),
    ]);
    await writeFile(path, MINIMAL);
    expect((await loadConfig({ path, env: {} })).warnings).toEqual([]);
  });

  it('when the unshared secret is empty, then the message names server.unsharedSecret', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, MINIMAL.replace('a-long-enough-unshared-secret', "''"));
    await expect(loadConfig({ path, env: {} })).rejects.toThrow(
      'server.unsharedSecret: must not be empty',
    );
  });

  it('when the file is not valid YAML, then a ConfigError says so', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'server: [unclosed\n');
    await expect(loadConfig({ path, env: {} })).rejects.toThrow(/is not valid YAML/);
  });

  it('when an explicit config path does not exist, then a ConfigError (nothing is generated)', async () => {
    const dir = await tempDir();
    await expect(loadConfig({ path: join(dir, 'nope.yaml'), env: {} })).rejects.toThrow(
      /Config file not found/,
    );
  });

  it('when secrets come from the environment, then they override the file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, MINIMAL);
    const { config } = await loadConfig({
      path,
      env: {
        SWITCHBOARD_PROVISIONING_SECRET: 'provisioning-secret-from-env',
        SWITCHBOARD_UNSHARED_SECRET: 'unshared-secret-from-env',
        DATABASE_URL: 'postgres://db.example/switchboard',
        SWITCHBOARD_PORT: '8123',
        SWITCHBOARD_BIND_ADDRESS: '0.0.0.0',
      },
    });
    expect(config.provisioning.secret).toBe('provisioning-secret-from-env');
    expect(config.server.unsharedSecret).toBe('unshared-secret-from-env');
    expect(config.database.url).toBe('postgres://db.example/switchboard');
    expect(config.listeners[0]!.port).toBe(8123);
    expect(config.listeners[0]!.bindAddress).toBe('0.0.0.0');
  });

  it('when SWITCHBOARD_PORT is not a port, then a ConfigError names it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(path, MINIMAL);
    await expect(loadConfig({ path, env: { SWITCHBOARD_PORT: '99999' } })).rejects.toThrow(
      /SWITCHBOARD_PORT/,
    );
  });

  it('when the committed sample is parsed, then it is a valid config with the documented defaults', async () => {
    const sample = await readFile(join(__dirname, '../../config.sample.yaml'), 'utf8');
    expect(sample).toBe(renderConfig(SAMPLE_VALUES));
    const config = parseConfig(parse(sample));
    expect(config.listeners).toEqual([
      {
        port: 29316,
        bindAddress: '127.0.0.1',
        resources: ['maubot', 'provisioning', 'webhooks', 'docs', 'metrics'],
      },
    ]);
    expect(config.database.url).toBeNull();
    expect(Object.values(config.apiFeatures).every(Boolean)).toBe(true);
    expect(config.instances).toEqual({
      memoryLimitMb: 256,
      stallTimeoutSeconds: 10,
      startTimeoutSeconds: 30,
      callsPerSecond: 20,
      callBurst: 100,
      logRecordsPerSecond: 10,
      logBurst: 50,
      hostUser: 'nobody',
      database: {
        statementTimeoutSeconds: 5,
        maxRows: 10_000,
        maxResultMb: 16,
        connectionsPerInstance: 2,
        maxConnections: 20,
        idleSeconds: 10,
      },
    });
    expect(config.previousEncryptionKeys).toEqual([]);
  });

  it('when a trusted proxy is not an address, range or known name, then the error names the key', () => {
    const sample = parse(renderConfig(SAMPLE_VALUES)) as { server: Record<string, unknown> };
    expect(parseConfig(sample).server.trustedProxies).toEqual([]);
    const withProxies = (trustedProxies: string[]) =>
      parseConfig({ ...sample, server: { ...sample.server, trustedProxies } });
    expect(withProxies(['loopback', '10.0.0.0/8', '2001:db8::1']).server.trustedProxies).toEqual([
      'loopback',
      '10.0.0.0/8',
      '2001:db8::1',
    ]);
    expect(() => withProxies(['proxy.example.org'])).toThrow(
      /server\.trustedProxies: invalid IP address: proxy\.example\.org/,
    );
    expect(() => withProxies(['10.0.0.0/33'])).toThrow('server.trustedProxies');
  });

  it('when instance limits are out of range, then the error names the key', () => {
    expect(() =>
      parseConfig({ ...parse(renderConfig(SAMPLE_VALUES)), instances: { memoryLimitMb: 4 } }),
    ).toThrow('instances.memoryLimitMb');
    expect(() =>
      parseConfig({
        ...parse(renderConfig(SAMPLE_VALUES)),
        instances: { database: { statementTimeoutSeconds: 0 } },
      }),
    ).toThrow('instances.database.statementTimeoutSeconds');
  });
});
