/** Messages between the host (main thread) and a plugin instance's worker thread. */

export interface WorkerBoot {
  instanceId: string;
  userId: string;
  /** Archive path → source text of the plugin's JavaScript files. */
  sources: Record<string, string>;
  /** Module name → archive path. */
  modulePaths: Record<string, string>;
  mainModule: string;
  mainClass: string;
  config: Record<string, unknown>;
  hasDatabase: boolean;
}

export interface HostEvent {
  roomId: string;
  eventId: string;
  sender: string;
  type: string;
  stateKey?: string;
  content: Record<string, unknown>;
  originServerTs: number;
}

export type ToWorker =
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'event'; event: HostEvent }
  | { kind: 'config'; config: Record<string, unknown> }
  | { kind: 'ping'; n: number }
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: string };

export type HostMethod = 'sendEvent' | 'getState' | 'dbQuery';

export type FromWorker =
  | { kind: 'started' }
  | { kind: 'start-failed'; error: string }
  | { kind: 'stopped' }
  | { kind: 'pong'; n: number }
  | { kind: 'call'; id: number; method: HostMethod; args: unknown[] }
  | {
      kind: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      msg: string;
      fields?: Record<string, unknown>;
    };
