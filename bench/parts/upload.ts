/** Upload and validation of a 10 MB plugin archive: time and the server's peak RSS growth. */
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { strToU8, zipSync } from 'fflate';
import { median, mib, startServers, type BenchPart, type Servers } from '../lib';

const UPLOADS = 10;
const UPLOAD_TARGET_MS = 150;
const RSS_TARGET_FACTOR = 3;

/** Upload-and-validate time of a 10 MB plugin archive, and the server's peak RSS growth. */
async function measureUpload(servers: Servers): Promise<boolean> {
  const archive = buildBenchArchive(10 * 1024 * 1024);
  const url = `http://127.0.0.1:${servers.info.switchboardPort}/_matrix/maubot/v1/plugins/upload?allow_override=1`;
  const headers = {
    Authorization: `Bearer ${servers.info.token}`,
    'Content-Type': 'application/zip',
    'Content-Length': String(archive.length),
  };
  const agent = new Agent({ keepAlive: true });
  // node:http rather than fetch: the client's own copying must not count as server time.
  const uploadOnce = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const req = httpRequest(url, { method: 'POST', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200 && res.statusCode !== 201) {
            reject(new Error(`upload answered ${res.statusCode}`));
          } else resolve(performance.now() - start);
        });
      });
      req.on('error', reject);
      req.end(archive);
    });
  await uploadOnce(); // warm-up: first-use compilation and the database's first growth
  const times: number[] = [];
  const growth = await servers.peakRssGrowth(async () => {
    for (let i = 0; i < UPLOADS; i++) times.push(await uploadOnce());
  });
  const ms = median(times);
  const factor = growth / archive.length;
  console.log(
    `\nupload + validate a ${mib(archive.length)} archive: median ${ms.toFixed(0)} ms over ${UPLOADS} ` +
      `(target < ${UPLOAD_TARGET_MS} ms) ${ms < UPLOAD_TARGET_MS ? 'ok' : 'too slow'}`,
  );
  console.log(
    `peak server RSS growth while uploading: ${mib(growth)} = ${factor.toFixed(2)} x the archive ` +
      `(target < ${RSS_TARGET_FACTOR} x) ${factor < RSS_TARGET_FACTOR ? 'ok' : 'too much'}`,
  );
  return ms >= UPLOAD_TARGET_MS || factor >= RSS_TARGET_FACTOR;
}

async function run(): Promise<boolean> {
  // One upload is latency, not throughput: the server gets all cores, as in production.
  const servers = await startServers({ pin: false });
  try {
    return await measureUpload(servers);
  } finally {
    servers.stop();
  }
}

/** A valid plugin whose size comes from an incompressible extra file. */
function buildBenchArchive(size: number): Buffer {
  return Buffer.from(
    zipSync(
      {
        'maubot.yaml': strToU8(
          'id: bench.upload\nversion: 1.0.0\nmodules: [bench]\nmain_class: Bench\n',
        ),
        'bench.js': strToU8('class Bench {}\nmodule.exports = { Bench };\n'),
        'payload.bin': randomBytes(size),
      },
      { level: 0 },
    ),
  );
}

export const uploadPart: BenchPart = {
  name: 'upload',
  description: 'upload + validate a 10 MB archive (median < 150 ms, peak RSS growth < 3x)',
  run,
};
