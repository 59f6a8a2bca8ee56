import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Written next to the compiled runtime by `npm run build`. */
export const HOST_BUNDLE_NAME = 'plugin-host.bundle.js';

/**
 * The plugin host's entry and everything it imports, as one CommonJS file: the host may read
 * only that file (and its plugin's code), so it must not need any other module on disk.
 */
export async function bundleHostScript(): Promise<string> {
  // A development dependency: the compiled server uses the bundle made at build time.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(__dirname, '..', 'host', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

let cached: Promise<string> | undefined;

/** The built bundle; from the TypeScript sources (development, tests) it is bundled now. */
export function hostScriptSource(): Promise<string> {
  cached ??= readFile(join(__dirname, HOST_BUNDLE_NAME), 'utf8').catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      return bundleHostScript();
    },
  );
  cached.catch(() => (cached = undefined));
  return cached;
}
