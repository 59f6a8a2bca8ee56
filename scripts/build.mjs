// `npm run build`: compiles the TypeScript to dist/, bundles the plugin host, and stamps dist/
// with the time the build started. With --if-stale (npm start's prestart) it first checks that
// stamp against the inputs' modification times and does nothing when dist/ is current: a start
// costs a directory walk, not a compile. Plain JavaScript, so the check needs no compiler.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
/** What the compiler and the plugin host bundle read. */
const INPUTS = [
  'src',
  'generated',
  'scripts',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
];

function newestInput(path) {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestInput(join(path, entry)));
  }
  return newest;
}

function isCurrent() {
  const built = statSync(STAMP, { throwIfNoEntry: false });
  if (!built) return false;
  return INPUTS.every((input) => newestInput(join(ROOT, input)) <= built.mtimeMs);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (process.argv.includes('--if-stale') && isCurrent()) process.exit(0);
const started = new Date();
run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build-plugin-host.ts')]);
// Dated when the build started: an input changed while it ran makes the next start build again.
writeFileSync(STAMP, `${started.toISOString()}\n`);
utimesSync(STAMP, started, started);
