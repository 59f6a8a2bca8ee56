import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Files Switchboard writes directly in the data directory. */
const DATA_FILES = ['config.yaml'];

/**
 * The data directory holds secrets (the configuration, the database): only Switchboard's OS user
 * may enter it (0700) and read its files (0600). With `searchGroup` (Switchboard runs as root
 * and the embedded database as its own OS user), that user's group may pass through (0710) to
 * the database's own directory, and still neither list the data directory nor read its files.
 * Creates the directory; tightens one left looser by an earlier release or by hand.
 */
export async function secureDataDir(dir: string, searchGroup?: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (searchGroup !== undefined && info.gid !== searchGroup)
    await chown(dir, info.uid, searchGroup);
  const mode = searchGroup === undefined ? 0o700 : 0o710;
  if ((info.mode & 0o777) !== mode) await chmod(dir, mode);
  for (const name of DATA_FILES) {
    const path = join(dir, name);
    const file = await stat(path).catch(() => null);
    if (file?.isFile() && file.mode & 0o077) await chmod(path, file.mode & 0o700);
  }
}
