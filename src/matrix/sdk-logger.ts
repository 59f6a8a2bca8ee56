import { format } from 'node:util';
import { logger as sdkRootLogger, type Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import type { Logger } from '../logging/logger';

type Level = 'trace' | 'debug' | 'info' | 'warn';

/**
 * SDK levels in ours: it reports routine events (queue resumed, sync retry) as info and errors
 * it recovers from by itself, so each is one step quieter here.
 */
const LEVELS: Record<string, Level> = {
  trace: 'trace',
  debug: 'trace',
  log: 'debug',
  info: 'debug',
  warn: 'warn',
  error: 'warn',
};

function write(logger: Logger, sdkLevel: string, msg: unknown[]): void {
  const level = LEVELS[sdkLevel] ?? 'debug';
  if (logger.isLevelEnabled(level)) logger[level](format(...msg));
}

/** matrix-js-sdk's logger interface on top of ours, for one client. */
export function sdkLogger(logger: Logger, namespace?: string): SdkLogger {
  const child = namespace ? logger.child({ sdk: namespace }) : logger;
  const line = (level: string) =>
    function (this: void, ...msg: unknown[]) {
      write(child, level, msg);
    };
  return {
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    getChild: (name: string) => sdkLogger(logger, namespace ? `${namespace}.${name}` : name),
  };
}

interface Loglevel {
  methodFactory: (method: string) => (...msg: unknown[]) => void;
  rebuild(): void;
}

let globalTarget: Logger | undefined;

/**
 * Parts of the SDK (group-call sessions) log through its global console logger instead of the
 * client's; its children copy its method factory when created, so this sends them all to ours.
 */
export function routeSdkGlobalLogging(logger: Logger): void {
  globalTarget = logger.child({ logger: 'matrix-js-sdk' });
}

const root = sdkRootLogger as unknown as Loglevel;
root.methodFactory = (method) =>
  function (...msg: unknown[]) {
    if (globalTarget) write(globalTarget, method, msg);
  };
root.rebuild();
