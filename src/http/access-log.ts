import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logging/logger';
import { loggablePath } from './log-path';
import type { Metrics } from './metrics';

const REQUEST_ID = /^[\w.-]{1,64}$/;
const LEVEL_KEY = 'accessLogLevel';
type AnswerLevel = 'info' | 'warn';

/**
 * A 5xx that is an answer the server means to give (a webhook's own transformation failed,
 * load is shed), not a fault of the server: its line is logged at `level` instead of error, so
 * that senders cannot fill the error log.
 */
export function expectedAnswer(res: Response, level: AnswerLevel): void {
  res.locals[LEVEL_KEY] = level;
}
// A random per-process prefix and a counter: unique ids without a random draw per request.
const ID_PREFIX = randomBytes(6).toString('hex');
let lastId = 0;

/**
 * One line and one metrics count per answered request (method, path without the query, which
 * may carry a token, and without secret segments such as hook ids, status, duration, request
 * id, client address), and the X-Request-Id header. Kept lean: it
 * runs on every request. Successful requests log at debug, client errors at info, server
 * errors at error.
 */
export function accessLog(logger: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-request-id'];
    const id =
      typeof given === 'string' && REQUEST_ID.test(given)
        ? given
        : `${ID_PREFIX}-${(++lastId).toString(36)}`;
    res.setHeader('X-Request-Id', id);
    const start = performance.now();
    res.once('finish', () => {
      const status = res.statusCode;
      metrics.recordRequest(req.method, status);
      // Integration managers poll: successes are debug, so info shows what went wrong.
      const level =
        status >= 500
          ? ((res.locals[LEVEL_KEY] as AnswerLevel | undefined) ?? 'error')
          : status >= 400
            ? 'info'
            : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      const path = loggablePath(req.originalUrl);
      const ms = Math.round((performance.now() - start) * 10) / 10;
      // The message says it all for the web UI's log viewer and `mbc logs`, which show only it.
      logger[level](
        { reqId: id, method: req.method, path, status, ms, address: req.ip },
        `${req.method} ${path} ${status} ${ms} ms`,
      );
    });
    next();
  };
}
