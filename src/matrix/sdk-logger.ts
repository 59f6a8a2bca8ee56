import { format } from 'node:util';
import { logger as sdkRootLogger, type Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { namedLogger, type Logger } from '../logging/logger';

type Level = 'trace' | 'debug' | 'info' | 'warn';

/**
 * SDK levels in ours: it reports routine events (queue resumed, sync retry) as info, its own
 * bookkeeping as warnings (7 about default push rules at each client start) and errors it
 * recovers from by itself, so only its errors reach the info level, as warnings. What matters
 * to an admin (a failing sync, a rejected token) Switchboard logs itself.
 */
const LEVELS: Record<string, Level> = {
  trace: 'trace',
  debug: 'trace',
  log: 'trace',
  info: 'debug',
  warn: 'debug',
  error: 'warn',
};

function write(logger: Logger, sdkLevel: string, msg: unknown[]): void {
  const level = LEVELS[sdkLevel] ?? 'debug';
  if (logger.isLevelEnabled(level)) logger[level](format(...msg));
}

/** matrix-js-sdk's logger interface on top of ours, for one client. */
export function sdkLogger(logger: Logger, namespace?: string): SdkLogger {
  // Marked as the SDK's, so that its records can be told from Switchboard's.
  const child = logger.child({ sdk: namespace ?? 'matrix-js-sdk' });
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
  globalTarget = namedLogger(logger, 'matrix-js-sdk', { sdk: 'global' });
}

const root = sdkRootLogger as unknown as Loglevel;
root.methodFactory = (method) =>
  function (...msg: unknown[]) {
    if (globalTarget) write(globalTarget, method, msg);
  };
root.rebuild();
