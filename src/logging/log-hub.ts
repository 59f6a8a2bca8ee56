import { Writable } from 'node:stream';
import type { components } from '../../generated/maubot';

/**
 * One log record as maubot's log websocket sends it (Python logging's field names), with the
 * logger's own extra fields.
 */
export type LogRecord = components['schemas']['LogRecord'];

export const LOG_HISTORY = 2048;

// pino level → Python logging's name and number.
const LEVELS: Record<number, [string, number]> = {
  10: ['DEBUG', 10],
  20: ['DEBUG', 10],
  30: ['INFO', 20],
  40: ['WARNING', 30],
  50: ['ERROR', 40],
  60: ['CRITICAL', 50],
};

const OWN_FIELDS = new Set(['level', 'time', 'msg', 'name', 'logger', 'pid', 'hostname', 'err']);

/**
 * `2026-01-02T03:04:05.123000+00:00`: local time with microseconds and a `+HH:MM` offset, the
 * only form `mbc logs` parses (a `Z` or a negative offset makes it crash, so UTC is used).
 */
export function pythonTime(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000+00:00`;
}

/**
 * Keeps the last records for the log websocket and hands new ones to its listeners. It is a
 * stream the logger writes its JSON lines to, next to its usual destination.
 */
export class LogHub {
  private readonly history: LogRecord[] = [];
  private readonly listeners = new Set<(record: LogRecord) => void>();
  private readonly started = performance.now();

  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') this.add(line);
      }
      done();
    },
  });

  recent(): LogRecord[] {
    return [...this.history];
  }

  subscribe(listener: (record: LogRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private add(line: string): void {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const record = this.toRecord(entry);
    this.history.push(record);
    if (this.history.length > LOG_HISTORY) this.history.shift();
    for (const listener of this.listeners) listener(record);
  }

  private toRecord(entry: Record<string, unknown>): LogRecord {
    const [levelname, levelno] = LEVELS[Number(entry.level)] ?? ['INFO', 20];
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const name = text(entry.logger) ?? text(entry.name) ?? 'switchboard';
    const extra = Object.fromEntries(Object.entries(entry).filter(([k]) => !OWN_FIELDS.has(k)));
    const err = entry.err as { stack?: string } | undefined;
    const time = typeof entry.time === 'string' ? new Date(entry.time) : new Date();
    return {
      ...extra,
      id: (performance.now() - this.started).toFixed(3),
      name,
      levelname,
      levelno,
      module: name.split('.').at(-1) ?? name,
      pathname: name,
      filename: name,
      lineno: 0,
      funcName: '',
      msg: text(entry.msg) ?? '',
      time: pythonTime(Number.isNaN(time.getTime()) ? new Date() : time),
      ...(err?.stack ? { exc_info: err.stack } : {}),
    };
  }
}
