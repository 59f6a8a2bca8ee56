import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How to start a worker thread on the module `name` of `dir`: the compiled file, or (from the
 * TypeScript sources, in development and tests) a bootstrap that compiles it on the fly as
 * CommonJS, like the rest of the sources. Pass both fields to `new Worker`.
 */
export function workerEntry(dir: string, name: string): { code: string; eval: boolean } {
  const js = join(dir, `${name}.js`);
  if (existsSync(js)) return { code: js, eval: false };
  const ts = join(dir, `${name}.ts`);
  return { code: `require('tsx/cjs'); require(${JSON.stringify(ts)});`, eval: true };
}
