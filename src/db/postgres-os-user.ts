import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logging/logger';
import { EmbeddedDatabaseUnavailableError } from './database-errors';

const run = promisify(execFile);

/**
 * PostgreSQL refuses to run as root. When Switchboard runs as root, its embedded server runs as
 * this OS user, created (a system user with no login shell and no home) when it is missing.
 */
export const DATABASE_OS_USER = 'switchboard-db';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

async function lookup(name: string): Promise<OsUser | null> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return null;
  }
}

/** The user the embedded server runs as: null for Switchboard's own (it is not root). */
export async function databaseOsUser(logger: Logger): Promise<OsUser | null> {
  if (process.getuid?.() !== 0) return null;
  const existing = await lookup(DATABASE_OS_USER);
  if (existing) return existing;
  const args = ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent'];
  args.push('--shell', '/usr/sbin/nologin', '--comment', 'Switchboard embedded PostgreSQL');
  let failure = '';
  // Two servers starting at once may both try; /etc/passwd may be locked for a moment.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await run('useradd', [...args, DATABASE_OS_USER]);
      logger.info(
        { user: DATABASE_OS_USER },
        'created an OS user for the embedded PostgreSQL server (PostgreSQL does not run as root)',
      );
    } catch (err) {
      failure = String((err as { stderr?: string }).stderr || (err as Error).message).trim();
    }
    const created = await lookup(DATABASE_OS_USER);
    if (created) return created;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new EmbeddedDatabaseUnavailableError(
    `Switchboard runs as root and PostgreSQL does not: its embedded database runs as the OS user ` +
      `"${DATABASE_OS_USER}", which could not be created (${failure}). Create it ` +
      `(useradd --system --user-group ${DATABASE_OS_USER}), run Switchboard as another user, ` +
      `or set DATABASE_URL.`,
  );
}

/**
 * The first directory above `path` that `user` cannot pass through (no search permission),
 * or null. Only the user's primary group counts: that is all the server gets.
 */
export async function unreachableParent(path: string, user: OsUser): Promise<string | null> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const info = await stat(dir);
    const bit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    if (!(info.mode & bit)) return dir;
    if (dirname(dir) === dir) return null;
  }
}
