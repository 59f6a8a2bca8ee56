/**
 * npm run bench: Switchboard's speed and memory against baselines measured in the same run on
 * this machine, part by part. `npm run bench -- --help` lists the parts; `--only a,b` runs some.
 */
import { parseArgs } from 'node:util';
import { stage, type BenchPart } from './lib';
import { apiPart } from './parts/api';
import { clientsPart } from './parts/clients';
import { commandsPart } from './parts/commands';
import { deliveryPart } from './parts/delivery';
import { footprintPart } from './parts/footprint';
import { listsPart } from './parts/lists';
import { loginPart } from './parts/login';
import { pluginsPart } from './parts/plugins';
import { slowQueryPart } from './parts/slow-query';
import { transformationsPart } from './parts/transformations';
import { uploadPart } from './parts/upload';
import { webhooksPart } from './parts/webhooks';

/** Every part, in the order a full run takes them. */
const PARTS: readonly BenchPart[] = [
  apiPart,
  uploadPart,
  clientsPart,
  commandsPart,
  pluginsPart,
  slowQueryPart,
  listsPart,
  webhooksPart,
  deliveryPart,
  transformationsPart,
  loginPart,
  footprintPart,
];

function usage(): string {
  const width = Math.max(...PARTS.map((p) => p.name.length));
  return [
    'Usage: npm run bench [-- --only PART[,PART...]]',
    '',
    'Runs every part (or the named ones) and exits non-zero when a target is missed or a part',
    'gives no result within 5 minutes.',
    '',
    'Parts:',
    ...PARTS.map((p) => `  ${p.name.padEnd(width)}  ${p.description}`),
    '',
    'Environment: BENCH_SECONDS (length of a measured round, default 3), BENCH_ROUNDS (default 3),',
    'BENCH_PROFILE=1 (CPU profiles of Switchboard into bench-profiles/), and the counts a part',
    'names in its description.',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  const names = values.only?.split(',').map((n) => n.trim()) ?? PARTS.map((p) => p.name);
  const unknown = names.filter((n) => !PARTS.some((p) => p.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark part: ${unknown.join(', ')}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  let failed = false;
  for (const part of PARTS.filter((p) => names.includes(p.name))) {
    console.log(`\n== ${part.name}: ${part.description}`);
    failed = (await stage(part.name, () => part.run())) || failed;
  }
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
