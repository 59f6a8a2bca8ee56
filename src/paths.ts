import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The checkout or image root (where package.json is), from sources and compiled output alike. */
function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot(__dirname);
export const OPENAPI_DIR = join(PROJECT_ROOT, 'openapi');
