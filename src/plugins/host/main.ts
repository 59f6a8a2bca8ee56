/**
 * Entry of a plugin host process: one plugin's code, loaded once, and its running instances as
 * objects of its main class. The server starts it under Node's permission model (it may read
 * this script and the plugin's unpacked files, nothing else; no processes, workers, addons,
 * WASI or inspector), with an empty environment and working directory, and as another OS user
 * where it can. Matrix, the database and the log are reached only through the channel on fd 3,
 * where the server checks and rate-limits everything again.
 */
import { closeSync, readFileSync } from 'node:fs';
import { builtinModules, syncBuiltinESMExports } from 'node:module';
import { Socket } from 'node:net';
import { join, posix } from 'node:path';
import { compileFunction } from 'node:vm';
import * as sdk from './plugin-sdk';
import {
  FrameDecoder,
  encodeFrame,
  type FromHost,
  type HostEvent,
  type HostMethod,
  type InstanceBoot,
  type LoadMessage,
  type LogLevel,
  type ToHost,
} from '../runtime/host-protocol';
import { RateLimit } from '../runtime/rate-limit';

const CHANNEL_FD = 3;
/** The server is trusted: what it sends is as large as a query result may be. */
const MAX_INCOMING_FRAME = 2 ** 31 - 1;

// Node modules a plugin may require: computation and formatting. (The permission model, not
// this list, is what keeps files, processes and threads out of reach.)
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

const channel = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
const decoder = new FrameDecoder(MAX_INCOMING_FRAME);
let load: LoadMessage | undefined;

function post(message: FromHost): boolean {
  const frame = encodeFrame(message);
  if (load && frame.length > load.maxFrameBytes) return false;
  channel.write(frame);
  return true;
}

/** An error's stack, cut so that the message carrying it stays within a frame. */
function describe(err: unknown): string {
  return (err instanceof Error ? (err.stack ?? err.message) : String(err)).slice(0, 64 * 1024);
}

function refusal(what: string): () => never {
  return () => {
    throw Object.assign(new Error(`plugins cannot ${what}`), { code: 'ERR_ACCESS_DENIED' });
  };
}

/**
 * What the permission model leaves open that a plugin has no use for: signals to other
 * processes (the server, when it runs as the same user), other processes' priorities, and V8
 * flags (some expose internals that corrupt memory).
 */
function harden(): void {
  const signals = refusal('send signals');
  Object.defineProperty(process, 'kill', { value: signals });
  Object.defineProperty(process, '_kill', { value: signals });
  Object.defineProperty(process.getBuiltinModule('node:os'), 'setPriority', {
    value: refusal('change process priorities'),
  });
  Object.defineProperty(process.getBuiltinModule('node:v8'), 'setFlagsFromString', {
    value: refusal('change V8 flags'),
  });
  syncBuiltinESMExports();
}

interface Hosted {
  id: string;
  plugin?: sdk.Plugin;
  calls: RateLimit;
  logs: RateLimit;
}

const instances = new Map<string, Hosted>();
let nextCall = 0;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

function call<T>(instance: Hosted, method: HostMethod, ...args: unknown[]): Promise<T> {
  const allowed = instance.calls.take();
  if (allowed !== 'ok') {
    if (allowed === 'first-drop') post({ kind: 'dropped', instanceId: instance.id, what: 'calls' });
    return Promise.reject(new Error(`${method}: over the rate limit of host calls`));
  }
  const id = ++nextCall;
  return new Promise<T>((resolve, reject) => {
    if (!post({ kind: 'call', id, instanceId: instance.id, method, args })) {
      reject(new Error(`${method}: the request is too large`));
      return;
    }
    pending.set(id, { resolve, reject });
  });
}

function logger(instance: Hosted): sdk.PluginLogger {
  const log = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    const allowed = instance.logs.take();
    if (allowed !== 'ok') {
      if (allowed === 'first-drop')
        post({ kind: 'dropped', instanceId: instance.id, what: 'logs' });
      return;
    }
    const record = { kind: 'log', instanceId: instance.id, level, msg: String(msg) } as const;
    if (!post(fields === undefined ? record : { ...record, fields })) {
      post({ ...record, msg: record.msg.slice(0, 4096), fields: { fields: 'too large' } });
    }
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function textContent(text: string, options: sdk.SendOptions = {}): Record<string, unknown> {
  return {
    msgtype: options.text ? 'm.text' : 'm.notice',
    body: text,
    ...(options.html !== undefined
      ? { format: 'org.matrix.custom.html', formatted_body: options.html }
      : {}),
  };
}

function client(instance: Hosted, userId: string): sdk.PluginClient {
  return {
    userId,
    send: (roomId, text, options) =>
      call(instance, 'sendEvent', roomId, 'm.room.message', textContent(text, options)),
    sendEvent: (roomId, type, content) => call(instance, 'sendEvent', roomId, type, content),
    react: (roomId, eventId, key) =>
      call(instance, 'sendEvent', roomId, 'm.reaction', {
        'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key },
      }),
    getState: (roomId, type, stateKey = '') => call(instance, 'getState', roomId, type, stateKey),
  };
}

/** The plugin's CommonJS modules, read from its directory and evaluated once. */
function loadMain(plugin: LoadMessage): new (context: sdk.PluginContext) => sdk.Plugin {
  const sources = new Set(plugin.sources);
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
        return process.getBuiltinModule(builtin);
      }
      if (!request.startsWith('.')) throw new Error(`module "${request}" is not in the plugin`);
      const base = posix.normalize(posix.join(dir, request));
      const path = [base, `${base}.js`, `${base}/index.js`].find((p) => sources.has(p));
      if (!path) throw new Error(`module "${request}" is not in the plugin`);
      return evaluate(path);
    };
  const evaluate = (path: string): unknown => {
    const cached = cache.get(path);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(path, module);
    const fn = compileFunction(
      readFileSync(join(plugin.dir, path), 'utf8'),
      ['exports', 'require', 'module', '__filename', '__dirname'],
      { filename: `plugin:${plugin.pluginId}/${path}` },
    ) as (...args: unknown[]) => unknown;
    fn(module.exports, requireFrom(posix.dirname(path)), module, path, posix.dirname(path));
    return module.exports;
  };
  const exports = evaluate(plugin.modulePaths[plugin.mainModule]!) as Record<string, unknown>;
  const Main = exports[plugin.mainClass];
  if (typeof Main !== 'function') {
    throw new Error(`main class ${plugin.mainClass} is not exported by ${plugin.mainModule}`);
  }
  return Main as new (context: sdk.PluginContext) => sdk.Plugin;
}

let Main: (new (context: sdk.PluginContext) => sdk.Plugin) | undefined;

function onLoad(message: LoadMessage): void {
  load = message;
  for (const fd of message.closeFds) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
  harden();
  try {
    Main = loadMain(message);
    post({ kind: 'ready' });
  } catch (err) {
    post({ kind: 'load-failed', error: describe(err) });
  }
}

function toEvent(instance: Hosted, event: HostEvent): sdk.PluginEvent {
  const body = typeof event.content.body === 'string' ? event.content.body : '';
  return {
    ...event,
    body,
    reply: (text, options) =>
      call(instance, 'sendEvent', event.roomId, 'm.room.message', {
        ...textContent(text, options),
        'm.relates_to': { 'm.in_reply_to': { event_id: event.eventId } },
      }),
    respond: (text, options) =>
      call(instance, 'sendEvent', event.roomId, 'm.room.message', textContent(text, options)),
    react: (key) =>
      call(instance, 'sendEvent', event.roomId, 'm.reaction', {
        'm.relates_to': { rel_type: 'm.annotation', event_id: event.eventId, key },
      }),
  };
}

/** Runs a handler; its failure is the plugin's problem, logged, never the host's end. */
async function guarded(instance: Hosted, what: string, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    logger(instance).error(`${what} failed: ${describe(err)}`);
  }
}

async function dispatch(instance: Hosted, hostEvent: HostEvent): Promise<void> {
  const plugin = instance.plugin;
  if (!plugin) return;
  const event = toEvent(instance, hostEvent);
  const jobs: Promise<void>[] = [];
  if (event.type === 'm.room.message') {
    const command = sdk.parseCommand(event.body);
    const registered = command && plugin.commands.get(command.name);
    if (registered && command.args === '--help') {
      jobs.push(
        guarded(instance, 'help', () => event.respond(`!${registered.name}: ${registered.help}`)),
      );
    } else if (registered) {
      jobs.push(
        guarded(instance, `command !${registered.name}`, () =>
          registered.handler(event, command.args),
        ),
      );
    }
  }
  for (const { kind, handler } of plugin.handlers) {
    if (sdk.matchesKind(kind, event)) {
      jobs.push(guarded(instance, `handler for ${kind}`, () => handler(event)));
    }
  }
  await Promise.all(jobs);
}

async function start(boot: InstanceBoot): Promise<void> {
  const limits = load!.limits;
  const instance: Hosted = {
    id: boot.instanceId,
    calls: new RateLimit(limits.callsPerSecond, limits.callBurst),
    logs: new RateLimit(limits.logsPerSecond, limits.logBurst),
  };
  instances.set(instance.id, instance);
  try {
    const plugin = new Main!({
      instanceId: boot.instanceId,
      config: boot.config,
      client: client(instance, boot.userId),
      db: boot.hasDatabase
        ? { query: (sql, params = []) => call(instance, 'dbQuery', sql, params) }
        : null,
      log: logger(instance),
      // Looked up on use: Node loads its HTTP client only when a plugin makes a request.
      http: (input, init) => fetch(input, init),
    });
    if (!(plugin instanceof sdk.Plugin)) {
      throw new Error(`main class ${load!.mainClass} does not extend Plugin`);
    }
    instance.plugin = plugin;
    await plugin.start();
    post({ kind: 'started', instanceId: instance.id });
  } catch (err) {
    instances.delete(instance.id);
    post({ kind: 'start-failed', instanceId: instance.id, error: describe(err) });
  }
}

async function stop(instanceId: string): Promise<void> {
  const instance = instances.get(instanceId);
  if (instance) await guarded(instance, 'stop', () => instance.plugin?.stop());
  instances.delete(instanceId);
  post({ kind: 'stopped', instanceId });
}

function onMessage(message: ToHost): void {
  switch (message.kind) {
    case 'load':
      onLoad(message);
      break;
    case 'start':
      void start(message.instance);
      break;
    case 'stop':
      void stop(message.instanceId);
      break;
    case 'event':
      for (const id of message.instanceIds) {
        const instance = instances.get(id);
        if (instance) void dispatch(instance, message.event);
      }
      break;
    case 'config': {
      const instance = instances.get(message.instanceId);
      const plugin = instance?.plugin;
      if (instance && plugin) {
        void guarded(instance, 'config update', () => plugin.onConfigUpdate(message.config));
      }
      break;
    }
    case 'ping':
      post({ kind: 'pong', n: message.n });
      break;
    case 'result': {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
      break;
    }
  }
}

channel.on('data', (chunk: Buffer) => {
  for (const message of decoder.push(chunk)) onMessage(message as ToHost);
});
// The server is gone (or closed the channel to stop this host): nothing left to do.
channel.on('close', () => process.exit(0));
channel.on('error', () => process.exit(0));

// Failures the plugin did not catch are logged (on stderr, which the server logs); the other
// instances keep running.
process.on('unhandledRejection', (err) =>
  process.stderr.write(`unhandled rejection: ${describe(err)}\n`),
);
process.on('uncaughtException', (err) =>
  process.stderr.write(`uncaught exception: ${describe(err)}\n`),
);
