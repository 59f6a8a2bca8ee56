import pino, { type DestinationStream, type Logger } from 'pino';

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
  return pino(
    {
      level,
      base: { name: 'switchboard' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    target,
  );
}
