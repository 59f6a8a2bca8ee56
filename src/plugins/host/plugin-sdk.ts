/**
 * The plugin author's API: plugins `require('switchboard-plugin')` and extend `Plugin`.
 * Runs inside the plugin's host process; everything Matrix goes through the server.
 */
import type { HostEvent } from '../runtime/host-protocol';

/** A room event as the plugin sees it: the homeserver's event, and ways to answer it. */
export interface PluginEvent extends HostEvent {
  /** `content.body` when it is a string, else "". */
  body: string;
  /** Sends a notice in the room that replies to this event (quoting it). */
  reply(text: string, options?: SendOptions): Promise<string>;
  /** Sends a notice in the room (not as a reply). */
  respond(text: string, options?: SendOptions): Promise<string>;
  /** Reacts to this event with `key` (e.g. "👍"). */
  react(key: string): Promise<string>;
}

export interface SendOptions {
  /** HTML version of the text. */
  html?: string;
  /** m.text instead of the default m.notice. */
  text?: boolean;
}

export interface PluginClient {
  /** The bot's Matrix user ID. */
  readonly userId: string;
  send(roomId: string, text: string, options?: SendOptions): Promise<string>;
  sendEvent(roomId: string, type: string, content: Record<string, unknown>): Promise<string>;
  react(roomId: string, eventId: string, key: string): Promise<string>;
  /** A state event's content, or null. */
  getState(
    roomId: string,
    type: string,
    stateKey?: string,
  ): Promise<Record<string, unknown> | null>;
}

export interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** The instance's own database (a schema of its own); parameters as $1, $2, ... */
export interface PluginDatabase {
  query(sql: string, params?: unknown[]): Promise<QueryResult>;
}

export interface PluginLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface PluginContext {
  instanceId: string;
  config: Record<string, unknown>;
  client: PluginClient;
  /** null unless maubot.yaml says `database: true`. */
  db: PluginDatabase | null;
  log: PluginLogger;
  /** Outgoing HTTP (the standard fetch). */
  http: typeof fetch;
}

export type CommandHandler = (event: PluginEvent, args: string) => unknown;
export type EventHandler = (event: PluginEvent) => unknown;

/** What `on()` listens to: a group, or an exact event type such as "m.room.topic". */
export type EventKind = 'message' | 'reaction' | 'membership' | 'state' | (string & {});

export interface Command {
  name: string;
  help: string;
  handler: CommandHandler;
}

/** Base class of every plugin's main class. */
export class Plugin {
  readonly instanceId: string;
  readonly client: PluginClient;
  readonly db: PluginDatabase | null;
  readonly log: PluginLogger;
  readonly http: typeof fetch;
  config: Record<string, unknown>;
  /** @internal */ readonly commands = new Map<string, Command>();
  /** @internal */ readonly handlers: { kind: EventKind; handler: EventHandler }[] = [];

  constructor(context: PluginContext) {
    this.instanceId = context.instanceId;
    this.client = context.client;
    this.db = context.db;
    this.log = context.log;
    this.http = context.http;
    this.config = context.config;
  }

  /** Called when the instance starts; register commands and handlers here. */
  start(): void | Promise<void> {}

  /** Called when the instance stops. */
  stop(): void | Promise<void> {}

  /** Called with the new merged config when the admin changes it; the default takes it. */
  onConfigUpdate(config: Record<string, unknown>): void | Promise<void> {
    this.config = config;
  }

  /** `!name args`: the handler gets the event and the text after the name. */
  command(name: string, help: string, handler: CommandHandler): void {
    this.commands.set(name.toLowerCase(), { name, help, handler });
  }

  on(kind: EventKind, handler: EventHandler): void {
    this.handlers.push({ kind, handler });
  }
}

/** Whether an `on()` registration wants this event. */
export function matchesKind(kind: EventKind, event: { type: string; stateKey?: string }): boolean {
  switch (kind) {
    case 'message':
      return event.type === 'm.room.message';
    case 'reaction':
      return event.type === 'm.reaction';
    case 'membership':
      return event.type === 'm.room.member';
    case 'state':
      return event.stateKey !== undefined;
    default:
      return event.type === kind;
  }
}

/** The command in a message body (`!name rest`), if any. */
export function parseCommand(body: string): { name: string; args: string } | null {
  const match = /^!(\S+)(?:\s+([\s\S]*))?$/.exec(body.trim());
  return match ? { name: match[1]!.toLowerCase(), args: (match[2] ?? '').trim() } : null;
}
