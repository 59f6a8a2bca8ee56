/**
 * npm run build:plugins: compiles each plugin in plugins/<name>/ (maubot.yaml, TypeScript
 * modules, extra files) into plugins/dist/<id>-v<version>.mbp.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import ts from 'typescript';
import { parse } from 'yaml';

export const PLUGINS_DIR = join(__dirname, '..', 'plugins');

/** One plugin's archive, built in memory. `overrides` patch maubot.yaml (tests make versions). */
export async function buildPlugin(
  name: string,
  overrides: Record<string, unknown> = {},
  /** Replaces the source of a module (tests make broken versions). */
  sources: Record<string, string> = {},
): Promise<{ id: string; version: string; archive: Buffer }> {
  const dir = join(PLUGINS_DIR, name);
  const meta = {
    ...(parse(await readFile(join(dir, 'maubot.yaml'), 'utf8')) as Record<string, unknown>),
    ...overrides,
  };
  const files: Record<string, Uint8Array> = {
    'maubot.yaml': strToU8(JSON.stringify(meta, null, 2)),
  };
  for (const module of meta.modules as string[]) {
    const source =
      sources[module] ??
      ts.transpileModule(await readFile(join(dir, `${module}.ts`), 'utf8'), {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
        fileName: `${module}.ts`,
      }).outputText;
    files[`${module}.js`] = strToU8(source);
  }
  for (const extra of (meta.extra_files as string[] | undefined) ?? []) {
    files[extra] = await readFile(join(dir, extra));
  }
  return {
    id: meta.id as string,
    version: String(meta.version),
    archive: Buffer.from(zipSync(files, { level: 6 })),
  };
}

async function main(): Promise<void> {
  const out = join(PLUGINS_DIR, 'dist');
  await mkdir(out, { recursive: true });
  for (const entry of await readdir(PLUGINS_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'dist') continue;
    const plugin = await buildPlugin(entry.name);
    const file = join(out, `${plugin.id}-v${plugin.version}.mbp`);
    await writeFile(file, plugin.archive);
    console.log(`built ${file}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
