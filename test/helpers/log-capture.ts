import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging/logger';

/** A logger whose JSON lines are kept for assertions. */
export function captureLogs(level = 'info'): {
  logger: Logger;
  lines: Record<string, unknown>[];
  text(): string;
} {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger(level, stream);
  return {
    logger,
    get lines() {
      return raw
        .flatMap((r) => r.split('\n').filter(Boolean))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}
