import { execFileSync, spawn as spawnProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { databaseUrl, openTestDatabase } from '../helpers/databases';
import { freePort, ROOT, runServer, stopServers, type RunningProcess } from '../helpers/process';

/** What the first start, its failures and `set-password` show an admin, as processes. */
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-first-run-'));
  dirs.push(dir);
  return dir;
}

/** A DATABASE_URL where nothing listens: the start ends when it tries the database. */
async function unreachableDatabase(): Promise<string> {
  return `postgres://postgres@127.0.0.1:${await freePort()}/none`;
}

const PRINTED_PASSWORD = /Log in as "admin" with password: (\S+)/;

async function adminHash(configPath: string, name = 'admin'): Promise<string> {
  const config = parse(await readFile(configPath, 'utf8')) as { admins: Record<string, string> };
  return config.admins[name]!;
}

/** The stdout lines after the first-start notice: each must be a JSON log line. */
function logLines(proc: RunningProcess): Record<string, unknown>[] {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A config with secrets of its own and a known admin password, ready to start. */
async function ownConfig(dir: string): Promise<string> {
  const path = join(dir, 'config.yaml');
  await writeFile(
    path,
    [
      `dataDir: ${dir}`,
      'server:',
      '  unsharedSecret: an-unshared-secret-of-our-own',
      `encryptionKey: ${Buffer.alloc(32, 3).toString('base64')}`,
      'provisioning:',
      '  secret: a-provisioning-secret-of-our-own',
      'admins:',
      `  admin: ${bcrypt.hashSync('first-run-password', 4)}`,
      '',
    ].join('\n'),
  );
  return path;
}

describe('the first start', () => {
  afterEach(stopServers);
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('when the database cannot be reached, then the generated password was printed first, stderr says why in one line and it exits 1', async () => {
    const dir = await tempDir();
    const url = await unreachableDatabase();
    const proc = runServer([], { SWITCHBOARD_DATA_DIR: dir, DATABASE_URL: url });
    expect(await proc.exited).toBe(1);
    const [, password] = proc.stdout().match(PRINTED_PASSWORD)!;
    expect(await bcrypt.compare(password!, await adminHash(join(dir, 'config.yaml')))).toBe(true);
    const port = new URL(url).port;
    expect(proc.stderr()).toBe(
      `switchboard: Cannot open the database "none" on 127.0.0.1:${port} (DATABASE_URL): ` +
        `connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    // The notice comes first, then the log lines, all JSON, none after the failure.
    expect(proc.stdout().indexOf('Log in as')).toBeLessThan(proc.stdout().indexOf('{'));
    expect(logLines(proc).map((l) => l.msg)).toEqual(['configuration loaded']);
  }, 60_000);

  it('when the first start is killed at any moment, then either no config exists yet or the printed password is the one it holds', async () => {
    const outcomes: string[] = [];
    // Kill points: as soon as the process exists, in the middle of loading, right after the
    // notice (the config may not be written yet), and once the log has begun (the config is
    // written, the database is being reached).
    for (const killAfter of [0, 300, 800, 1500, 'notice', 'log'] as const) {
      const dir = await tempDir();
      const proc = runServer([], {
        SWITCHBOARD_DATA_DIR: dir,
        DATABASE_URL: await unreachableDatabase(),
      });
      if (killAfter === 'notice') await proc.waitFor(PRINTED_PASSWORD, 30_000);
      else if (killAfter === 'log') await proc.waitFor(/"msg":"configuration loaded"/, 30_000);
      else await new Promise((resolve) => setTimeout(resolve, killAfter));
      proc.child.kill('SIGKILL');
      await proc.exited;
      const configPath = join(dir, 'config.yaml');
      if (!existsSync(configPath)) {
        outcomes.push('no config');
        continue;
      }
      const printed = proc.stdout().match(PRINTED_PASSWORD);
      expect(printed).not.toBeNull();
      expect(await bcrypt.compare(printed![1]!, await adminHash(configPath))).toBe(true);
      outcomes.push('printed');
    }
    expect(outcomes.at(-1)).toBe('printed');
  }, 120_000);

  it('when Ctrl-C interrupts the first start while the embedded database starts, then the password was printed and the config holds it', async () => {
    const dir = await tempDir();
    const proc = runServer([], { SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_PORT: '0' });
    const [, password] = await proc.waitFor(PRINTED_PASSWORD, 30_000);
    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(130);
    expect(await bcrypt.compare(password!, await adminHash(join(dir, 'config.yaml')))).toBe(true);
  }, 60_000);
});

describe("npm start's compiled server", () => {
  afterEach(stopServers);

  /** npm start's prestart: builds when a source is newer than dist/, else does nothing. */
  const prestart = () =>
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  beforeAll(() => {
    prestart();
  }, 300_000);

  it('when dist/ is current, then the prestart check builds nothing', () => {
    expect(prestart()).toBe('');
  });

  it('when its first start is cut short by an unreachable database, then the password was printed and logs in', async () => {
    const dir = await tempDir();
    const proc = runServer(
      [],
      { SWITCHBOARD_DATA_DIR: dir, DATABASE_URL: await unreachableDatabase() },
      { built: true },
    );
    expect(await proc.exited).toBe(1);
    const [, password] = proc.stdout().match(PRINTED_PASSWORD)!;
    expect(await bcrypt.compare(password!, await adminHash(join(dir, 'config.yaml')))).toBe(true);
    expect(proc.stderr()).toMatch(/^switchboard: Cannot open the database "none" on [^\n]+\n$/);
  }, 60_000);
});

describe('set-password', () => {
  afterEach(stopServers);

  it('when a password comes on stdin, then the config holds its hash, comments and other admins kept', async () => {
    const dir = await tempDir();
    const path = await ownConfig(dir);
    await writeFile(path, `${await readFile(path, 'utf8')}  # the other admin\n  bob: ''\n`);
    const proc = runServer(
      ['set-password', 'admin', '--config', path],
      {},
      {
        input: 'a new password of mine\n',
      },
    );
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toBe(
      `Set a new password for "admin" in ${path}.\nA running Switchboard uses it after its next start.\n`,
    );
    const text = await readFile(path, 'utf8');
    expect(text).toContain('# the other admin');
    expect(text).not.toContain('a new password of mine');
    expect(await bcrypt.compare('a new password of mine', await adminHash(path))).toBe(true);
    expect(await adminHash(path, 'bob')).toBe('');
  }, 30_000);

  it('when no password is given, then one is generated, printed and its hash stored; a new admin name is added', async () => {
    const dir = await tempDir();
    const path = await ownConfig(dir);
    const proc = runServer(['set-password', 'carol'], { SWITCHBOARD_CONFIG: path });
    expect(await proc.exited).toBe(0);
    const [, password] = proc.stdout().match(/^Set a new password for "carol" in .*: (\S+)\n/)!;
    expect(await bcrypt.compare(password!, await adminHash(path, 'carol'))).toBe(true);
    expect(await bcrypt.compare('first-run-password', await adminHash(path))).toBe(true);
  }, 30_000);

  it.each([
    [
      'root',
      ['set-password', 'root'],
      'switchboard: "root" has no password: it logs in with server.unsharedSecret\n',
    ],
    [
      'a short password',
      ['set-password', 'admin'],
      'switchboard: the password must have at least 8 characters\n',
    ],
  ])(
    'when asked for %s, then it exits 1 with one line and the config is unchanged',
    async (_case, args, message) => {
      const dir = await tempDir();
      const path = await ownConfig(dir);
      const before = await readFile(path, 'utf8');
      const proc = runServer([...args, '--config', path], {}, { input: 'short\n' });
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toBe(message);
      expect(await readFile(path, 'utf8')).toBe(before);
    },
    30_000,
  );

  it('when there is no config yet, then it says where it looked and exits 1', async () => {
    const dir = await tempDir();
    const proc = runServer(['set-password'], { SWITCHBOARD_DATA_DIR: dir });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toBe(
      `switchboard: Config file not found: ${join(dir, 'config.yaml')} (a first start writes it)\n`,
    );
  }, 30_000);
});

describe('startup errors', () => {
  afterEach(stopServers);

  it("when the config is config.sample.yaml's copy, then it refuses to start naming each placeholder key, in one line", async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await copyFile(join(ROOT, 'config.sample.yaml'), path);
    const proc = runServer(['--config', path], { DATABASE_URL: await unreachableDatabase() });
    expect(await proc.exited).toBe(1);
    expect(proc.stdout()).toBe('');
    expect(proc.stderr()).toBe(
      `switchboard: Config file ${path} still has the sample's placeholder values: ` +
        'server.unsharedSecret, admins.admin, provisioning.secret, encryptionKey (all zeros). ' +
        'Replace each with a value of your own (random secrets: openssl rand -base64 32) and ' +
        'start again\n',
    );
  }, 30_000);

  it("when the sample's secrets come from the environment and the admin password is replaced, then the placeholders are gone and the start goes on", async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    const sample = await readFile(join(ROOT, 'config.sample.yaml'), 'utf8');
    await writeFile(path, sample.replace('replace-with-a-password', 'a-real-password'));
    const proc = runServer(['--config', path], {
      SWITCHBOARD_DATA_DIR: dir,
      DATABASE_URL: await unreachableDatabase(),
      SWITCHBOARD_UNSHARED_SECRET: 'an-unshared-secret-from-the-environment',
      SWITCHBOARD_PROVISIONING_SECRET: 'a-provisioning-secret-from-the-environment',
      SWITCHBOARD_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/^switchboard: Cannot open the database "none" on .*\n$/);
  }, 30_000);

  it('when a placeholder is left in an optional section, then that key is named', async () => {
    const dir = await tempDir();
    const path = await ownConfig(dir);
    await writeFile(
      path,
      `${await readFile(path, 'utf8')}jira:\n  webhookSecret: replace-with-a-random-string\n`,
    );
    const proc = runServer(['--config', path], { DATABASE_URL: await unreachableDatabase() });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(
      "still has the sample's placeholder values: jira.webhookSecret. ",
    );
  }, 30_000);

  it('when the config file is bad, then stderr is one line and nothing else is printed', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'listeners: [1\n');
    const proc = runServer(['--config', path], {});
    expect(await proc.exited).toBe(1);
    expect(proc.stdout()).toBe('');
    expect(proc.stderr()).toMatch(
      new RegExp(`^switchboard: Config file ${path} is not valid YAML: .* at line 2, column 1\\n$`),
    );
  }, 30_000);

  // `script` runs the server on a pseudo-terminal (util-linux; absent elsewhere).
  const onTerminal = existsSync('/usr/bin/script') ? it : it.skip;
  onTerminal(
    'when stdout is a terminal, then log lines are readable text, not JSON',
    async () => {
      const dir = await tempDir();
      const server = `${process.execPath} --import tsx ${join(ROOT, 'src/server.ts')}`;
      const proc = spawnProcess('/usr/bin/script', ['-qec', server, '/dev/null'], {
        cwd: ROOT,
        env: {
          ...process.env,
          SWITCHBOARD_DATA_DIR: dir,
          DATABASE_URL: await unreachableDatabase(),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise((resolve) => proc.once('exit', resolve));
      expect(code).toBe(1);
      // eslint-disable-next-line no-control-regex
      const text = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
      expect(text).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: configuration loaded \{"config":"[^"]+"\}$/m,
      );
      expect(text).not.toMatch(/^\{"level"/m);
    },
    30_000,
  );

  describe('with a database', () => {
    let db: Awaited<ReturnType<typeof openTestDatabase>>;
    let busy: Server;
    beforeAll(async () => {
      db = await openTestDatabase('embedded');
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => busy.close(resolve));
      await db.close();
    });

    it('when the port is in use, then stderr says which in one line after the log lines, and it exits 1', async () => {
      const dir = await tempDir();
      const path = await ownConfig(dir);
      const port = (busy.address() as { port: number }).port;
      const proc = runServer(['--config', path], {
        DATABASE_URL: databaseUrl(db.connectionParams()),
        SWITCHBOARD_PORT: String(port),
      });
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toBe(
        `switchboard: cannot listen on 127.0.0.1:${port}: the port is in use (another process ` +
          "listens there; change the listener's port in the config or SWITCHBOARD_PORT)\n",
      );
      const lines = logLines(proc);
      expect(lines.map((l) => l.msg)).toEqual(
        expect.arrayContaining(['configuration loaded', 'connections loaded']),
      );
      expect(lines.some((l) => l.msg === 'listening')).toBe(false);
      // Every stdout line is a log line, in the order they were written.
      expect(proc.stdout().trim().split('\n')).toHaveLength(lines.length);
      const times = lines.map((l) => String(l.time));
      expect([...times].sort()).toEqual(times);
    }, 60_000);
  });
});
