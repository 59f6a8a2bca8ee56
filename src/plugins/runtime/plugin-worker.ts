/**
 * Entry of a plugin instance's worker thread: loads the plugin's modules from memory, runs
 * its lifecycle and handlers, and reaches Matrix and the database only through the host.
 */
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { compileFunction } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import * as sdk from './plugin-sdk';
import type { FromWorker, HostEvent, HostMethod, ToWorker, WorkerBoot } from './worker-protocol';

const port = parentPort!;
const boot = workerData as WorkerBoot;
const post = (message: FromWorker) => port.postMessage(message);

// Node modules a plugin may use: computation and formatting, no processes, files or threads.
const ALLOWED_BUILTINS = new Set([
  'assert',
  'buffer',
  'crypto',
  'events',
  'querystring',
  'string_decoder',
  'url',
  'util',
  'path',
]);

let nextCall = 0;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

function call<T>(method: HostMethod, ...args: unknown[]): Promise<T> {
  const id = ++nextCall;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve, reject });
    post({ kind: 'call', id, method, args });
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

const log: sdk.PluginLogger = {
  debug: (msg, fields) => post({ kind: 'log', level: 'debug', msg, fields }),
  info: (msg, fields) => post({ kind: 'log', level: 'info', msg, fields }),
  warn: (msg, fields) => post({ kind: 'log', level: 'warn', msg, fields }),
  error: (msg, fields) => post({ kind: 'log', level: 'error', msg, fields }),
};

function textContent(text: string, options: sdk.SendOptions = {}): Record<string, unknown> {
  return {
    msgtype: options.text ? 'm.text' : 'm.notice',
    body: text,
    ...(options.html !== undefined
      ? { format: 'org.matrix.custom.html', formatted_body: options.html }
      : {}),
  };
}

const client: sdk.PluginClient = {
  userId: boot.userId,
  send: (roomId, text, options) =>
    call('sendEvent', roomId, 'm.room.message', textContent(text, options)),
  sendEvent: (roomId, type, content) => call('sendEvent', roomId, type, content),
  react: (roomId, eventId, key) =>
    call('sendEvent', roomId, 'm.reaction', {
      'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key },
    }),
  getState: (roomId, type, stateKey = '') => call('getState', roomId, type, stateKey),
};

const db: sdk.PluginDatabase | null = boot.hasDatabase
  ? { query: (sql, params = []) => call('dbQuery', sql, params) }
  : null;

/** CommonJS modules from the archive, compiled in this thread. */
function loadModules(): (name: string) => unknown {
  const cache = new Map<string, { exports: unknown }>();
  const requireFrom =
    (dir: string) =>
    (request: string): unknown => {
      if (request === 'switchboard-plugin') return sdk;
      const builtin = request.replace(/^node:/, '');
      if (builtinModules.includes(builtin)) {
        if (!ALLOWED_BUILTINS.has(builtin)) {
          throw new Error(`plugins cannot use the Node module "${request}"`);
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(builtin);
      }
      if (!request.startsWith('.')) throw new Error(`module "${request}" is not in the plugin`);
      const base = posix.normalize(posix.join(dir, request));
      const path = [base, `${base}.js`, `${base}/index.js`].find((p) => p in boot.sources);
      if (!path) throw new Error(`module "${request}" is not in the plugin`);
      return evaluate(path);
    };
  const evaluate = (path: string): unknown => {
    const cached = cache.get(path);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(path, module);
    const fn = compileFunction(
      boot.sources[path]!,
      ['exports', 'require', 'module', '__filename', '__dirname'],
      { filename: `plugin:${boot.instanceId}/${path}` },
    ) as (...args: unknown[]) => unknown;
    fn(module.exports, requireFrom(posix.dirname(path)), module, path, posix.dirname(path));
    return module.exports;
  };
  return (name) => evaluate(boot.modulePaths[name]!);
}

let plugin: sdk.Plugin | undefined;

function toEvent(event: HostEvent): sdk.PluginEvent {
  const body = typeof event.content.body === 'string' ? event.content.body : '';
  return {
    ...event,
    body,
    reply: (text, options) =>
      call('sendEvent', event.roomId, 'm.room.message', {
        ...textContent(text, options),
        'm.relates_to': { 'm.in_reply_to': { event_id: event.eventId } },
      }),
    respond: (text, options) => client.send(event.roomId, text, options),
    react: (key) => client.react(event.roomId, event.eventId, key),
  };
}

/** Runs a handler; its failure is the plugin's problem, logged, never the thread's end. */
async function guarded(what: string, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    log.error(`${what} failed: ${describe(err)}`);
  }
}

async function dispatch(hostEvent: HostEvent): Promise<void> {
  if (!plugin) return;
  const event = toEvent(hostEvent);
  const jobs: Promise<void>[] = [];
  if (event.type === 'm.room.message') {
    const command = sdk.parseCommand(event.body);
    const registered = command && plugin.commands.get(command.name);
    if (registered && command.args === '--help') {
      jobs.push(guarded('help', () => event.respond(`!${registered.name}: ${registered.help}`)));
    } else if (registered) {
      jobs.push(
        guarded(`command !${registered.name}`, () => registered.handler(event, command.args)),
      );
    }
  }
  for (const { kind, handler } of plugin.handlers) {
    if (sdk.matchesKind(kind, event))
      jobs.push(guarded(`handler for ${kind}`, () => handler(event)));
  }
  await Promise.all(jobs);
}

async function start(): Promise<void> {
  try {
    const load = loadModules();
    const exports = load(boot.mainModule) as Record<string, unknown>;
    const Main = exports[boot.mainClass];
    if (typeof Main !== 'function') {
      throw new Error(`main class ${boot.mainClass} is not exported by ${boot.mainModule}`);
    }
    plugin = new (Main as new (context: sdk.PluginContext) => sdk.Plugin)({
      instanceId: boot.instanceId,
      config: boot.config,
      client,
      db,
      log,
      http: fetch,
    });
    if (!(plugin instanceof sdk.Plugin)) {
      throw new Error(`main class ${boot.mainClass} does not extend Plugin`);
    }
    await plugin.start();
    post({ kind: 'started' });
  } catch (err) {
    plugin = undefined;
    post({ kind: 'start-failed', error: describe(err) });
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'start':
      void start();
      break;
    case 'event':
      void dispatch(message.event);
      break;
    case 'config':
      if (plugin) {
        const p = plugin;
        void guarded('config update', () => p.onConfigUpdate(message.config));
      }
      break;
    case 'ping':
      post({ kind: 'pong', n: message.n });
      break;
    case 'stop':
      void guarded('stop', () => plugin?.stop()).then(() => post({ kind: 'stopped' }));
      break;
    case 'result': {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
      break;
    }
  }
});

// A rejection the plugin forgot to handle is logged like a throwing handler.
process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${describe(err)}`));
