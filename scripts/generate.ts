/**
 * Writes everything derived from a source of truth: generated/<api>.ts from openapi/<api>.yaml
 * and config.sample.yaml from the config template. With --check, writes nothing and fails
 * when a committed file differs from what would be generated.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';
import ts from 'typescript';
import { parse } from 'yaml';
import { SAMPLE_VALUES, renderConfig } from '../src/config/template';
import { PROJECT_ROOT } from '../src/paths';

const APIS = ['maubot', 'provisioning'] as const;
const BLOB = ts.factory.createTypeReferenceNode('Blob');
const HEADER = (source: string) =>
  `// THIS FILE IS GENERATED from ${source} by \`npm run generate\`. DO NOT EDIT IT BY HAND.\n\n`;

async function renderApiTypes(api: string): Promise<string> {
  const specText = await readFile(join(PROJECT_ROOT, 'openapi', `${api}.yaml`), 'utf8');
  const ast = await openapiTS(parse(specText) as never, {
    alphabetize: false,
    // Binary bodies (plugin archives, proxied media) are bytes, which fetch sends as a Blob.
    transform: (schema) => (schema.format === 'binary' ? BLOB : undefined),
  });
  const code = HEADER(`openapi/${api}.yaml`) + astToString(ast);
  const options = await resolveConfig(join(PROJECT_ROOT, 'generated', `${api}.ts`));
  return format(code, { ...options, parser: 'typescript' });
}

async function outputs(): Promise<[string, string][]> {
  const files: [string, string][] = [];
  for (const api of APIS) files.push([join('generated', `${api}.ts`), await renderApiTypes(api)]);
  files.push(['config.sample.yaml', renderConfig(SAMPLE_VALUES)]);
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [file, content] of await outputs()) {
    const path = join(PROJECT_ROOT, file);
    if (check) {
      const current = await readFile(path, 'utf8').catch(() => null);
      if (current !== content) stale.push(file);
    } else {
      await writeFile(path, content);
      console.log(`wrote ${file}`);
    }
  }
  if (stale.length > 0) {
    console.error(`Stale generated files (run npm run generate): ${stale.join(', ')}`);
    process.exit(1);
  }
  if (check) console.log('generated files are up to date');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
