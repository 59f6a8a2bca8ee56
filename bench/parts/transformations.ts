/** Hostile transformation functions: the server stays responsive and gives its memory back. */
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  SERVER_NODE_FLAGS,
  mib,
  profileFlags,
  quantile,
  spawn,
  stopChild,
  type BenchPart,
} from '../lib';

const HOSTILE_PER_SECOND = 20;
const HOSTILE_SECONDS = Number(process.env.BENCH_HOSTILE_SECONDS ?? 15);
const HEALTH_P99_TARGET_MS = 50;
/** RSS after the attack may exceed the baseline by this much (allocator slack). */
const RSS_SLACK_BYTES = 16 * 1024 * 1024;
/** How long the server may take to settle after the attack before RSS is compared. */
const SETTLE_MS = 5_000;

const ROOT = join(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The hooks the server child makes (see bench/transformations.ts). */
type HookName = 'loop' | 'alloc' | 'huge' | 'friendly' | 'friendly2';

interface Rss {
  rss: number;
  spawned: number;
  runners: number;
}

/**
 * The server child and the start-up measurement, compiled as `npm run build` compiles the
 * server: runner threads start from compiled code in production, while from the TypeScript
 * sources every new runner would compile its entry first. Returns the directory (with the
 * package root's files linked in) and its removal.
 */
async function compile(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-transform-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  for (const name of ['node_modules', 'package.json', 'openapi']) {
    symlinkSync(join(ROOT, name), join(dir, name));
  }
  const tsc = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      join(ROOT, 'bench', 'transformations.ts'),
      join(ROOT, 'bench', 'transformation-spawn.ts'),
      join(ROOT, 'src', 'webhooks', 'transformation-worker.ts'),
      ...['--outDir', dir, '--rootDir', ROOT, '--target', 'es2023', '--module', 'nodenext'],
      ...['--esModuleInterop', '--skipLibCheck', '--noCheck', '--types', 'node'],
    ],
    { stdio: 'inherit' },
  );
  const [code] = (await once(tsc, 'exit')) as [number];
  if (code !== 0) {
    remove();
    throw new Error(`compiling the benchmark server failed (${code})`);
  }
  return { dir, remove };
}

/** What a new runner costs (compiled). */
async function spawnCost(dir: string): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [join(dir, 'bench', 'transformation-spawn.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  await stopChild(child);
  return JSON.parse(line) as Record<string, number>;
}

/**
 * While 20 hostile posts a second hit hooks whose functions loop forever, allocate without end
 * or return 15 MiB, /health is polled without pause and a friendly hook keeps posting: /health
 * p99 must stay under 50 ms, and once the attack is over the server's RSS (after a full GC) must
 * come back to what it was before it (runners warmed), within 16 MiB.
 */
async function run(): Promise<boolean> {
  const children: ReturnType<typeof spawn>[] = [];
  const build = await compile();
  try {
    const homeserver = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '..', 'homeserver.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        env: { ...process.env, BENCH_HOOK_ROOMS: '2' },
      },
    );
    children.push(homeserver);
    const [hs] = (await once(homeserver, 'message')) as [
      { url: string; bot: { userId: string }; owner: string; rooms: string[] },
    ];
    const server = spawn(
      process.execPath,
      [
        ...SERVER_NODE_FLAGS,
        '--expose-gc',
        ...profileFlags(),
        join(build.dir, 'bench', 'transformations.js'),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        env: {
          ...process.env,
          BENCH_HS_URL: hs.url,
          BENCH_BOT: JSON.stringify(hs.bot),
          BENCH_USER: hs.owner,
          BENCH_ROOMS: JSON.stringify(hs.rooms),
        },
      },
    );
    children.push(server);
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    const info = JSON.parse(line) as { port: number; hooks: Record<HookName, string> };
    const base = `http://127.0.0.1:${info.port}`;
    /** With `collect`, after a full garbage collection (which holds the server up). */
    const rss = async (collect = true): Promise<Rss> => {
      const answer = once(server, 'message');
      server.send(collect ? 'rss-gc' : 'rss');
      return ((await answer) as [Rss])[0];
    };
    const post = async (hook: HookName, n: number) => {
      const started = performance.now();
      const res = await fetch(`${base}${info.hooks[hook]}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ n }),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started };
    };

    // Warm-up: both runners started and used, the JIT settled.
    for (let i = 0; i < 50; i++) await Promise.all([post('friendly', i), post('friendly2', i)]);
    const baseline = await rss();

    let attacking = true;
    const hostileStatuses = new Map<number, number>();
    const hostile: Promise<void>[] = [];
    const names = ['loop', 'alloc', 'huge'] as const;
    const attack = (async () => {
      const started = performance.now();
      for (let i = 0; performance.now() - started < HOSTILE_SECONDS * 1000; i++) {
        hostile.push(
          post(names[i % names.length]!, i).then(
            ({ status }) =>
              void hostileStatuses.set(status, (hostileStatuses.get(status) ?? 0) + 1),
            () => void hostileStatuses.set(0, (hostileStatuses.get(0) ?? 0) + 1),
          ),
        );
        const next = started + ((i + 1) * 1000) / HOSTILE_PER_SECOND;
        await sleep(Math.max(0, next - performance.now()));
      }
      attacking = false;
    })();
    const health: number[] = [];
    const healthPoll = (async () => {
      while (attacking) {
        const started = performance.now();
        const res = await fetch(`${base}/health`);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
        health.push(performance.now() - started);
        await sleep(10);
      }
    })();
    const friendly: { status: number; ms: number }[] = [];
    const friendlyPosts = (async () => {
      for (let n = 0; attacking; n++) {
        friendly.push(await post('friendly', n));
        await sleep(200);
      }
    })();
    let peak = baseline.rss;
    const peakPoll = (async () => {
      while (attacking) {
        peak = Math.max(peak, (await rss(false)).rss);
        await sleep(500);
      }
    })();
    await Promise.all([attack, healthPoll, friendlyPosts, peakPoll]);
    await Promise.all(hostile);

    await sleep(SETTLE_MS);
    const after = await rss();
    health.sort((a, b) => a - b);
    const healthP99 = quantile(health, 0.99);
    const friendlyOk = friendly.filter((f) => f.status === 200);
    const friendlyMs = friendlyOk.map((f) => f.ms).sort((a, b) => a - b);
    const rssBack = after.rss <= baseline.rss + RSS_SLACK_BYTES;
    const ok = healthP99 < HEALTH_P99_TARGET_MS && rssBack && friendlyOk.length === friendly.length;
    const statuses = [...hostileStatuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${count}x ${status || 'error'}`)
      .join(', ');

    console.log(
      `\nhostile transformations, ${HOSTILE_PER_SECOND} posts/s for ${HOSTILE_SECONDS} s ` +
        `(endless loop, allocating loop, 15 MiB result; answers: ${statuses}):`,
    );
    console.log(
      `  /health p50 ${quantile(health, 0.5).toFixed(1)} ms, p99 ${healthP99.toFixed(1)} ms, ` +
        `max ${health[health.length - 1]!.toFixed(1)} ms over ${health.length} polls ` +
        `(target p99 < ${HEALTH_P99_TARGET_MS} ms) ${healthP99 < HEALTH_P99_TARGET_MS ? 'ok' : 'TOO SLOW'}`,
    );
    console.log(
      `  friendly hook meanwhile: ${friendlyOk.length}/${friendly.length} answered 200, ` +
        `p50 ${quantile(friendlyMs, 0.5).toFixed(1)} ms, p99 ${quantile(friendlyMs, 0.99).toFixed(1)} ms`,
    );
    console.log(
      `  RSS: before ${mib(baseline.rss)}, peak ${mib(peak)}, ${SETTLE_MS / 1000} s after ` +
        `${mib(after.rss)} (target <= before + ${mib(RSS_SLACK_BYTES)}) ` +
        `${rssBack ? 'ok' : 'NOT RETURNED'}; runners started ${after.spawned - baseline.spawned} ` +
        `during the attack, ${after.runners} running after it`,
    );
    const cost = await spawnCost(build.dir);
    console.log(
      `  a new runner (compiled build): first call ${cost.freshMs!.toFixed(1)} ms ` +
        `(start + call, median of ${cost.fresh}), warm calls p50 ` +
        `${cost.warmP50Ms!.toFixed(2)} ms, p99 ${cost.warmP99Ms!.toFixed(2)} ms; ` +
        `main thread's event loop held up at most ${cost.loopDelayMaxMs!.toFixed(1)} ms while ` +
        `runners started (${cost.warmLoopDelayMaxMs!.toFixed(1)} ms during warm calls)`,
    );
    return !ok;
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    build.remove();
  }
}

export const transformationsPart: BenchPart = {
  name: 'transformations',
  description:
    'hostile transformation functions at 20 posts/s: /health p99 < 50 ms, RSS back to its ' +
    'baseline (BENCH_HOSTILE_SECONDS, default 15)',
  run,
};
