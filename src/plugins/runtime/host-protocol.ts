/**
 * The channel between the server and a plugin host process: length-prefixed JSON frames on a
 * socket pair (fd 3 in the host). Not Node's IPC channel: that one buffers a message of any
 * size (a host could make the server hold gigabytes), and a frame here has a size limit.
 * Bundled into the host, so it imports nothing at runtime.
 */

/** A room event as the server hands it to a plugin. */
export interface HostEvent {
  roomId: string;
  eventId: string;
  sender: string;
  type: string;
  stateKey?: string;
  content: Record<string, unknown>;
  originServerTs: number;
}

export interface HostRateLimits {
  callsPerSecond: number;
  callBurst: number;
  logsPerSecond: number;
  logBurst: number;
}

/** The first message a host receives: which plugin to load, and how. */
export interface LoadMessage {
  kind: 'load';
  pluginId: string;
  /** Where the plugin's files are unpacked (the only directory the host may read). */
  dir: string;
  /** Archive paths of the plugin's JavaScript files. */
  sources: string[];
  /** Module name → archive path. */
  modulePaths: Record<string, string>;
  mainModule: string;
  mainClass: string;
  /** Descriptors the host inherited by accident (the server's own, opened without CLOEXEC). */
  closeFds: number[];
  limits: HostRateLimits;
  /** Largest frame the server accepts from the host. */
  maxFrameBytes: number;
}

export interface InstanceBoot {
  instanceId: string;
  userId: string;
  config: Record<string, unknown>;
  hasDatabase: boolean;
}

export type ToHost =
  | LoadMessage
  | { kind: 'start'; instance: InstanceBoot }
  | { kind: 'stop'; instanceId: string }
  | { kind: 'event'; instanceIds: string[]; event: HostEvent }
  | { kind: 'config'; instanceId: string; config: Record<string, unknown> }
  | { kind: 'ping'; n: number }
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: string };

export const HOST_METHODS = ['sendEvent', 'getState', 'dbQuery'] as const;
export type HostMethod = (typeof HOST_METHODS)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type FromHost =
  | { kind: 'ready' }
  | { kind: 'load-failed'; error: string }
  | { kind: 'started'; instanceId: string }
  | { kind: 'start-failed'; instanceId: string; error: string }
  | { kind: 'stopped'; instanceId: string }
  | { kind: 'pong'; n: number }
  | { kind: 'call'; id: number; instanceId: string; method: HostMethod; args: unknown[] }
  | {
      kind: 'log';
      instanceId: string;
      level: LogLevel;
      msg: string;
      fields?: Record<string, unknown>;
    }
  /** The host refused an instance's calls or log records over its rate limit. */
  | { kind: 'dropped'; instanceId: string; what: 'calls' | 'logs' };

const HEADER_BYTES = 4;

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Splits the byte stream into messages; a frame over `maxBytes` or not JSON is an error. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): unknown[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: unknown[] = [];
    let offset = 0;
    while (this.pending.length - offset >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(offset);
      if (size > this.maxBytes) {
        throw new FrameError(`a message of ${size} bytes (the limit is ${this.maxBytes})`);
      }
      if (this.pending.length - offset - HEADER_BYTES < size) break;
      const body = this.pending.toString(
        'utf8',
        offset + HEADER_BYTES,
        offset + HEADER_BYTES + size,
      );
      offset += HEADER_BYTES + size;
      try {
        messages.push(JSON.parse(body));
      } catch {
        throw new FrameError('a message that is not JSON');
      }
    }
    this.pending = this.pending.subarray(offset);
    return messages;
  }
}
