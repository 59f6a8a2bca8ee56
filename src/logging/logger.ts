import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Top-level keys whose values never reach a log line (nothing logs headers or bodies). */
const REDACT = ['password', 'secret', 'token', 'access_token', 'authorization'];

/**
 * Log output through a 16 KB buffer that is flushed at least every 200 ms: a busy server writes
 * lines in batches instead of a system call per line, and a quiet one still shows them at once.
 * Flush synchronously before exiting.
 */
export function bufferedDestination(
  dest: number | string = 1,
): DestinationStream & { flushSync(): void } {
  return pino.destination({ dest, minLength: 16_000, periodicFlush: 200, sync: false });
}

/**
 * Where the server's log goes: readable lines when stdout is a terminal, one JSON object per
 * line otherwise (files, pipes, journald, containers), buffered as above.
 */
export function processDestination(): DestinationStream & { flushSync(): void } {
  if (!process.stdout.isTTY) return bufferedDestination();
  const stream = pretty({
    colorize: true,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,logger',
    messageFormat: '{if logger}{logger}: {end}{msg}',
  });
  // Written synchronously: nothing to flush.
  return Object.assign(stream, { flushSync: () => undefined });
}

const ROOT = Symbol('root logger');

/**
 * A logger for one part of Switchboard, named by its `logger` field. Made from the root
 * logger with the parent's other fields, so each line carries the key once: pino appends a
 * child's fields to its parent's, and a named child of a named child would repeat it.
 */
export function namedLogger(
  parent: Logger,
  name: string,
  fields: Record<string, unknown> = {},
): Logger {
  const root = (parent as Logger & { [ROOT]?: Logger })[ROOT];
  if (!root || root === parent) return parent.child({ logger: name, ...fields });
  const inherited = parent.bindings();
  delete inherited.name;
  delete inherited.logger;
  return root.child({ ...inherited, ...fields, logger: name });
}

/** The process logger; with a hub, every line also goes to the log websocket's history. */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  hub?: { stream: DestinationStream | NodeJS.WritableStream },
): Logger {
  const target = hub
    ? pino.multistream([
        { stream: destination ?? process.stdout, level: 'trace' },
        { stream: hub.stream, level: 'trace' },
      ])
    : destination;
  const logger = pino(
    {
      level,
      base: { name: 'switchboard' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    target,
  );
  // Children inherit it through their prototype: namedLogger finds the root from any of them.
  Object.defineProperty(logger, ROOT, { value: logger });
  return logger;
}
