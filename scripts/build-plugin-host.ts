/**
 * Part of `npm run build`: the plugin host's entry bundled into one file next to the compiled
 * runtime, the only server file a plugin host may read.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_BUNDLE_NAME, bundleHostScript } from '../src/plugins/runtime/host-script';
import { PROJECT_ROOT } from '../src/paths';

async function main(): Promise<void> {
  const out = join(PROJECT_ROOT, 'dist', 'src', 'plugins', 'runtime', HOST_BUNDLE_NAME);
  await writeFile(out, await bundleHostScript());
  console.log(`built ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
