import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../scripts/build-plugins';
import { createTestApp, type TestApp } from '../helpers/app';
import { botInRoom, type BotRoom } from '../helpers/bot-room';
import { captureLogs } from '../helpers/log-capture';
import { maubotApi } from '../helpers/maubot-api';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';

/**
 * A probe plugin tries everything docs/plugins.md lists under "What a plugin can reach", and
 * each line of that list is checked against what really happens; the list and CHECKS below
 * must match line for line.
 */

type Outcome = 'refused' | 'limited' | 'host restarted' | 'allowed';

const DOC = readFileSync(join(__dirname, '../../docs/plugins.md'), 'utf8');

function documentedRows(): [string, string][] {
  const table = /<!-- plugin-boundary:start -->([\s\S]*?)<!-- plugin-boundary:end -->/.exec(DOC);
  if (!table) throw new Error('docs/plugins.md has no plugin-boundary table');
  return table[1]!
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) => {
      const [what, outcome] = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      return [what!, outcome!];
    });
}

const LIMITS = {
  memoryMb: 128,
  // Long enough that a busy machine does not make a memory hog look like a stalled host.
  stallMs: 4000,
  startMs: 20_000,
  restartBaseMs: 200,
  restartMaxMs: 1000,
  callsPerSecond: 5,
  callBurst: 10,
  logsPerSecond: 5,
  logBurst: 10,
};

/** The probe: `!probe <what>` tries one thing; `!probe checks` answers the quick ones in JSON. */
const PROBE = String.raw`const { Plugin } = require('switchboard-plugin');
const B = (name) => process.getBuiltinModule(name);

/** 'refused:<code>' when every attempt throws (or reports nothing), else 'allowed:...'. */
async function attempt(...tries) {
  const results = [];
  for (const t of tries) {
    try {
      const value = await t();
      results.push(value === false ? 'refused:false' : 'allowed:' + String(value).slice(0, 40));
    } catch (e) {
      results.push('refused:' + (e.code || e.message));
    }
  }
  return results.find((r) => r.startsWith('allowed')) || results.join(',');
}

function once(emitter, ok, fail = 'error') {
  return new Promise((resolve, reject) => {
    emitter.once(ok, resolve);
    emitter.once(fail, reject);
  });
}

function frame(message) {
  const body = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** The host's own channel to the server, as any plugin code can find it. */
function channel() {
  return process._getActiveHandles().find((h) => h && h._handle && h._handle.fd === 3);
}

const ownDir = process.execArgv.filter((a) => a.startsWith('--allow-fs-read=')).map((a) => a.slice(16))[1];
const keep = [];

class Probe extends Plugin {
  start() {
    this.command('probe', 'tries things', (event, what) => this[what](event));
  }

  async checks(event) {
    const c = this.config;
    const fs = B('fs');
    const net = B('net');
    const checks = {
      program: () => attempt(
        () => B('child_process').execFileSync('/bin/true'),
        () => require('child_process'),
        () => process.execve('/bin/true'),
      ),
      binding: () => attempt(() => process.binding('fs'), () => process._linkedBinding('fs')),
      config: () => attempt(() => fs.readFileSync(c.configFile, 'utf8')),
      environ: () => attempt(
        () => fs.readFileSync('/proc/self/environ', 'utf8'),
        () => fs.readFileSync('/proc/' + process.ppid + '/environ', 'utf8'),
      ),
      env: () => attempt(() => Object.keys(process.env).length > 0 && JSON.stringify(process.env)),
      files: () => attempt(
        () => fs.readFileSync('/etc/passwd', 'utf8'),
        () => fs.readFileSync(c.otherPlugin, 'utf8'),
        () => fs.readdirSync('/'),
        () => fs.readdirSync(process.cwd()),
        () => fs.statSync(c.configFile).size,
      ),
      write: () => attempt(
        () => fs.writeFileSync(c.scratch + '/written', 'x'),
        () => fs.mkdirSync(c.scratch + '/made'),
        () => fs.symlinkSync('/etc/passwd', c.scratch + '/link'),
      ),
      outsideCode: () => attempt(
        () => B('module').createRequire('/')(c.configFile),
        () => require('../../../../etc/passwd'),
      ),
      worker: () => attempt(
        () => new (B('worker_threads').Worker)('1', { eval: true, execArgv: [] }),
      ),
      addon: () => attempt(() => process.dlopen({ exports: {} }, c.addon)),
      wasi: () => attempt(() => new (B('wasi').WASI)({ version: 'preview1' })),
      inspector: () => attempt(
        () => B('inspector').open(0),
        () => new (B('inspector').Session)().connect(),
      ),
      sqlite: () => attempt(() => {
        const sqlite = B('node:sqlite');
        return sqlite !== undefined && new sqlite.DatabaseSync(c.scratch + '/db.sqlite');
      }),
      v8flags: () => attempt(() => B('v8').setFlagsFromString('--allow-natives-syntax')),
      signal: () => attempt(
        () => process.kill(process.ppid, 'SIGCONT'),
        () => B('os').setPriority(process.ppid, B('os').getPriority(process.ppid)),
      ),
      ownFiles: () => attempt(() => fs.readFileSync(ownDir + '/maubot.yaml', 'utf8')),
      tcp: () => attempt(async () => {
        const socket = net.connect(c.tcpPort, '127.0.0.1');
        const [data] = await Promise.all([once(socket, 'data'), once(socket, 'connect')]);
        socket.destroy();
        return String(data);
      }),
      udp: () => attempt(async () => {
        const socket = B('dgram').createSocket('udp4');
        await new Promise((resolve, reject) =>
          socket.send('probe', c.udpPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
        );
        socket.close();
        return 'sent';
      }),
      unix: () => attempt(async () => {
        const socket = net.connect(c.unixSocket);
        const data = await once(socket, 'data');
        socket.destroy();
        return String(data);
      }),
      listen: () => attempt(async () => {
        const server = net.createServer().listen(0, '127.0.0.1');
        await once(server, 'listening');
        const port = server.address().port;
        server.close();
        return port;
      }),
      processInfo: () => attempt(
        () => process.report.getReport().header.nodejsVersion + ' ' + B('os').cpus().length,
      ),
      wasm: () => attempt(async () => {
        const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
        return (await WebAssembly.instantiate(empty)).instance !== undefined;
      }),
    };
    const results = {};
    for (const [name, run] of Object.entries(checks)) results[name] = await run();
    await event.respond(JSON.stringify(results));
  }

  fields() {
    this.log.warn('forged fields', {
      level: 60,
      msg: 'a forged message',
      logger: 'maubot.instance.bystander',
      name: 'forged',
      time: '2000-01-01T00:00:00.000Z',
      pid: 1,
      extra: 'kept',
    });
  }

  other(event) {
    channel().write(Buffer.concat([
      frame({ kind: 'log', instanceId: 'bystander', level: 'error', msg: 'forged by the probe' }),
      frame({ kind: 'call', id: 1e9, instanceId: 'bystander', method: 'sendEvent',
        args: [event.roomId, 'm.room.message', { msgtype: 'm.text', body: 'forged call' }] }),
    ]));
  }

  calls(event) {
    for (let i = 0; i < 200; i++) this.client.send(event.roomId, 'call flood ' + i).catch(() => {});
  }

  logs() {
    for (let i = 0; i < 500; i++) this.log.info('log flood ' + i);
  }

  raw(event) {
    const frames = [];
    for (let i = 0; i < 200; i++) {
      frames.push(frame({ kind: 'call', id: 2e9 + i, instanceId: this.instanceId, method: 'sendEvent',
        args: [event.roomId, 'm.room.message', { msgtype: 'm.text', body: 'raw call ' + i }] }));
    }
    for (let i = 0; i < 5000; i++) {
      frames.push(frame({ kind: 'log', instanceId: this.instanceId, level: 'info', msg: 'raw log ' + i }));
    }
    channel().write(Buffer.concat(frames));
  }

  buffers() {
    const grow = () => {
      keep.push(Buffer.alloc(8 << 20, 1));
      setImmediate(grow);
    };
    grow();
  }

  heap() {
    const a = [];
    for (;;) a.push(new Array(1e5).fill(Math.random()));
  }

  loop() {
    for (;;) {}
  }

  crash() {
    process.abort();
  }

  oversized() {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(0x7fffffff);
    channel().write(head);
  }
}
module.exports = { Probe };`;

describe('the plugin boundary, attacked by a probe plugin', () => {
  const kind = testDatabaseKinds()[0]!;
  let hs: TestHomeserver;
  let t: TestApp;
  let logs: ReturnType<typeof captureLogs>;
  let txn = 0;
  let scratch: string;
  let tcp: Server;
  let unix: Server;
  let udp: UdpSocket;
  let quick: Record<string, string>;

  const api = () => maubotApi(t);

  let room: BotRoom;
  const say = (body: string) => room.say(body);
  const botMessages = () => room.botMessages();

  const records = (instance: string, since = 0) =>
    logs.lines.slice(since).filter((l) => l.logger === `maubot.instance.${instance}`);

  const probeStarts = () => records('probe').filter((l) => l.msg === 'instance started').length;

  /** The other plugin and the API answer. */
  async function othersStillWork(): Promise<void> {
    const tag = `alive ${++txn}`;
    await say(`!echo ${tag}`);
    await waitFor(() => botMessages().includes(tag), { what: 'the bystander to answer' });
    expect((await api().get('/instances')).status).toBe(200);
  }

  /** Sends `!probe what`; resolves once the log shows why the host ended and it is back. */
  async function hostRestartsAfter(what: string, reason: string): Promise<Outcome> {
    const mark = logs.lines.length;
    const starts = probeStarts();
    await say(`!probe ${what}`);
    await waitFor(
      () =>
        records('probe', mark).find((l) => String(l.msg).includes(`instance stopped: ${reason}`)),
      { what: `the host to end (${reason})`, timeoutMs: 20_000 },
    );
    await waitFor(() => probeStarts() > starts, { what: 'the probe to start again' });
    expect((await api().get('/instance/probe')).body).toMatchObject({
      started: true,
      enabled: true,
    });
    await othersStillWork();
    return 'host restarted';
  }

  /** Waits for the burst's warning, then a little; counts what got through. */
  async function limitedFlood(
    what: string,
    warning: string,
    passed: (mark: number) => number,
    burst: number,
    rate: number,
  ): Promise<Outcome> {
    const mark = logs.lines.length;
    const started = Date.now();
    await say(`!probe ${what}`);
    await waitFor(() => records('probe', mark).some((l) => l.msg === warning), {
      what: `the warning "${warning}"`,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const seconds = (Date.now() - started) / 1000;
    const count = passed(mark);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(burst + Math.ceil(rate * seconds));
    expect(records('probe', mark).filter((l) => l.msg === warning)).toHaveLength(1);
    await othersStillWork();
    return 'limited';
  }

  const CALLS_WARNING = 'host calls over the rate limit are refused until the plugin slows down';
  const LOGS_WARNING = 'log records over the rate limit are dropped until the plugin slows down';

  const quickCheck = (name: string) => (): Promise<Outcome> => {
    const result = quick[name];
    if (result === undefined) throw new Error(`the probe did not run ${name}`);
    return Promise.resolve(result.startsWith('refused') ? 'refused' : 'allowed');
  };

  /** Each line of the documented table: how to find out what really happens. */
  const CHECKS: Record<string, () => Promise<Outcome>> = {
    'run a program (`child_process`, `process.execve`)': quickCheck('program'),
    "use Node's internal bindings (`process.binding`)": quickCheck('binding'),
    "read the server's configuration file": quickCheck('config'),
    "read the server's environment (`/proc/self/environ`, `/proc/<server>/environ`)":
      quickCheck('environ'),
    'find variables in its own environment (`process.env`)': quickCheck('env'),
    "read any other file (`/etc/passwd`, other plugins' code, directory listings)":
      quickCheck('files'),
    'write, create or link a file': async () => {
      expect(await readdir(scratch)).not.toContain('written');
      return quickCheck('write')();
    },
    "load code from outside its archive (`module.createRequire`, `require('../..')`)":
      quickCheck('outsideCode'),
    'start a worker thread (even with `execArgv: []`)': quickCheck('worker'),
    'load a native addon (`process.dlopen`)': quickCheck('addon'),
    'use WASI': quickCheck('wasi'),
    'open the inspector': quickCheck('inspector'),
    'use `node:sqlite`': async () => {
      expect(await readdir(scratch)).not.toContain('db.sqlite');
      return quickCheck('sqlite')();
    },
    'change V8 flags (`v8.setFlagsFromString`)': quickCheck('v8flags'),
    'signal or renice the server (`process.kill`, `os.setPriority`)': quickCheck('signal'),
    "run as the server's OS user (when the server runs as root)": async () => {
      const status = await readFile(
        `/proc/${t.instances.runtime.hostOf('probe')!.pid}/status`,
        'utf8',
      );
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
      // Not root: nothing to arrange, the host runs as the server's user.
      if (process.getuid!() !== 0) return uid === process.getuid!() ? 'refused' : 'allowed';
      return uid === process.getuid!() ? 'allowed' : 'refused';
    },
    'use descriptors the server inherited or opened': async () => {
      const targets = async (pid: number | 'self') => {
        const dir = `/proc/${pid}/fd`;
        const entries = await readdir(dir);
        const links = await Promise.all(
          entries.map(async (fd) => [Number(fd), await readlink(join(dir, fd)).catch(() => '')]),
        );
        return new Map(links as [number, string][]);
      };
      const host = await targets(t.instances.runtime.hostOf('probe')!.pid!);
      const server = new Set((await targets('self')).values());
      // stdin is /dev/null; stdout, stderr (to the server's log) and fd 3 (the channel) are
      // socket pairs with the server.
      expect(host.get(0)).toBe('/dev/null');
      for (const fd of [1, 2, 3]) expect(host.get(fd)).toMatch(/^socket:/);
      const shared = [...host.entries()].filter(
        ([fd, target]) =>
          fd > 3 &&
          server.has(target) &&
          !target.startsWith('anon_inode:') &&
          target !== '/dev/null',
      );
      // Sockets past the channel would be connections of the server's.
      const sockets = [...host.entries()].filter(
        ([fd, target]) => fd > 3 && target.startsWith('socket:'),
      );
      return shared.length === 0 && sockets.length === 0 ? 'refused' : 'allowed';
    },
    "set its log records' level, logger name or time through `fields`": async () => {
      const mark = logs.lines.length;
      await say('!probe fields');
      const record = await waitFor(
        () => logs.lines.slice(mark).find((l) => l.msg === 'forged fields'),
        { what: 'the record' },
      );
      expect(record).toMatchObject({ level: 40, logger: 'maubot.instance.probe', extra: 'kept' });
      const forged =
        record.name !== 'switchboard' ||
        record.pid === 1 ||
        Math.abs(Date.parse(String(record.time)) - Date.now()) > 60_000 ||
        logs.lines.slice(mark).some((l) => l.msg === 'a forged message');
      await othersStillWork();
      return forged ? 'allowed' : 'refused';
    },
    "log or call as another plugin's instance (messages written to the channel)": async () => {
      const mark = logs.lines.length;
      await say('!probe other');
      // The probe's next command is answered only after the server read the forged messages.
      await othersStillWork();
      await say('!probe fields');
      await waitFor(() => records('probe', mark).some((l) => l.msg === 'forged fields'), {
        what: 'the probe to answer after its forgery',
      });
      const forged =
        records('bystander', mark).some((l) => l.msg === 'forged by the probe') ||
        botMessages().includes('forged call');
      return forged ? 'allowed' : 'refused';
    },
    'flood Matrix and database calls': () =>
      limitedFlood(
        'calls',
        CALLS_WARNING,
        () => botMessages().filter((b) => b.startsWith('call flood ')).length,
        LIMITS.callBurst,
        LIMITS.callsPerSecond,
      ),
    'flood log records': () =>
      limitedFlood(
        'logs',
        LOGS_WARNING,
        (mark) =>
          records('probe', mark).filter((l) => String(l.msg).startsWith('log flood ')).length,
        LIMITS.logBurst,
        LIMITS.logsPerSecond,
      ),
    'flood the channel with messages of its own': async () => {
      const mark = logs.lines.length;
      const starts = probeStarts();
      await limitedFlood(
        'raw',
        CALLS_WARNING,
        () => botMessages().filter((b) => b.startsWith('raw call ')).length,
        LIMITS.callBurst,
        LIMITS.callsPerSecond,
      );
      const rawLogs = records('probe', mark).filter((l) => String(l.msg).startsWith('raw log '));
      expect(rawLogs.length).toBeGreaterThan(0);
      expect(rawLogs.length).toBeLessThanOrEqual(LIMITS.logBurst + LIMITS.logsPerSecond * 5);
      expect(records('probe', mark).filter((l) => l.msg === LOGS_WARNING)).toHaveLength(1);
      // Contained without ending the host.
      expect(probeStarts()).toBe(starts);
      await othersStillWork();
      return 'limited';
    },
    'hold memory beyond the limit outside the JavaScript heap (`Buffer`s)': () =>
      hostRestartsAfter('buffers', 'it used more than its memory limit of 128 MB'),
    'fill the JavaScript heap': () =>
      hostRestartsAfter('heap', 'it used more than its memory limit of 128 MB'),
    'loop forever': () => hostRestartsAfter('loop', 'it did not respond for 4000 ms'),
    'crash its process (`process.abort()`)': () =>
      hostRestartsAfter('crash', 'the plugin host exited (signal SIGABRT)'),
    'send the server an oversized or malformed message': () =>
      hostRestartsAfter('oversized', 'it broke the plugin host protocol'),
    "read its own files (the archive's contents)": quickCheck('ownFiles'),
    "connect over TCP, loopback included (the homeserver, Switchboard's APIs, a database)":
      quickCheck('tcp'),
    'send UDP datagrams': quickCheck('udp'),
    'connect to a Unix socket its OS user may open': quickCheck('unix'),
    'listen on a TCP port': quickCheck('listen'),
    'learn about its own process and the machine (`process.report`, `os`)':
      quickCheck('processInfo'),
    'run WebAssembly (without WASI)': quickCheck('wasm'),
  };

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    logs = captureLogs('info');
    t = await createTestApp(kind, { logger: logs.logger, runtime: LIMITS });
    room = await botInRoom(hs, t);

    // What the probe aims at: a secret config file anyone may read by file mode, a native
    // addon path, a scratch directory anyone may write to, and servers it may reach.
    scratch = await mkdtemp(join(tmpdir(), 'switchboard-probe-'));
    await chmod(scratch, 0o777);
    const configFile = join(scratch, 'config.yaml');
    await writeFile(configFile, 'server:\n  unsharedSecret: do-not-read-me\n', { mode: 0o644 });
    const addon = join(scratch, 'addon.node');
    await writeFile(addon, 'not really an addon', { mode: 0o644 });
    tcp = createServer((socket) => socket.end('hi from tcp'));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const unixSocket = join(scratch, 'unix.sock');
    unix = createServer((socket) => socket.end('hi from unix'));
    await new Promise<void>((resolve) => unix.listen(unixSocket, resolve));
    await chmod(unixSocket, 0o777);
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));

    const echo = await buildPlugin('echo');
    expect((await api().upload(echo.archive)).status).toBe(201);
    expect(
      (
        await api().put('/instance/bystander', {
          type: 'switchboard.echo',
          primary_user: room.bot.userId,
        })
      ).body.started,
    ).toBe(true);
    const probe = await buildPlugin(
      'echo',
      { id: 'test.probe', main_class: 'Probe' },
      { echo: PROBE },
    );
    expect((await api().upload(probe.archive)).status).toBe(201);
    const config = {
      configFile,
      addon,
      scratch,
      otherPlugin: join(t.instances.runtime.hostOf('bystander')!.dir, 'echo.js'),
      tcpPort: (tcp.address() as AddressInfo).port,
      udpPort: udp.address().port,
      unixSocket,
    };
    const created = await api().put('/instance/probe', {
      type: 'test.probe',
      primary_user: room.bot.userId,
      config: JSON.stringify(config),
    });
    expect(created.body).toMatchObject({ started: true });

    await say('!probe checks');
    const answer = await waitFor(() => botMessages().find((b) => b.startsWith('{"program"')), {
      what: 'the quick checks',
      timeoutMs: 20_000,
    });
    quick = JSON.parse(answer) as Record<string, string>;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await hs?.close();
    tcp?.close();
    unix?.close();
    udp?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('when docs/plugins.md is read, then its table and these checks list the same lines', () => {
    expect(
      documentedRows()
        .map(([what]) => what)
        .sort(),
    ).toEqual(Object.keys(CHECKS).sort());
  });

  it.each(documentedRows())(
    'a plugin tries to %s: %s',
    async (what, outcome) => {
      const check = CHECKS[what];
      expect(check).toBeDefined();
      expect(await check!()).toBe(outcome);
    },
    60_000,
  );

  it('when the probe kept ending its host, then each restart waited longer, up to the maximum', () => {
    const delays = records('probe')
      .filter((l) => typeof l.restartInMs === 'number')
      .map((l) => l.restartInMs);
    // Five ends (memory twice, the loop, the crash, the protocol) in a row.
    expect(delays).toEqual([200, 400, 800, 1000, 1000]);
  });

  it('when the probe has tried everything, then the server shuts its hosts down and leaves no files', async () => {
    const root = t.instances.runtime.hostOf('probe')!.dir.replace(/\/[^/]+$/, '');
    const pids = ['probe', 'bystander'].map((id) => t.instances.runtime.hostOf(id)!.pid!);
    await t.instances.stopAll();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(readdir(root)).rejects.toThrow('ENOENT');
  });
});
