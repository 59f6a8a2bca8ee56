import type { Request, RequestHandler } from 'express';
import { rateLimit, type AugmentedRequest, type Options } from 'express-rate-limit';
import type { Config } from '../../config/schema';
import type { Logger } from '../../logging/logger';
import { MaubotApiError } from './errors';

function usernameOf(req: Request): string | undefined {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const name = (body as { username?: unknown }).username;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Limits failed logins (successful ones do not count) per client address and per admin name,
 * both before any password is compared. Past a limit, 429 `login_rate_limited` with
 * `Retry-After` in seconds. Counts are kept in this process's memory.
 */
export function loginRateLimits(
  limits: Config['server']['loginRateLimit'],
  logger: Logger,
): RequestHandler[] {
  const common: Partial<Options> = {
    windowMs: limits.windowSeconds * 1000,
    skipSuccessfulRequests: true,
    standardHeaders: false,
    legacyHeaders: false,
    logger: {
      error: (err, msg) => logger.error({ err }, msg ?? 'login rate limit'),
      warn: (err, msg) => logger.warn({ err }, msg ?? 'login rate limit'),
    },
    handler: (req, res, next) => {
      const resetTime = (req as AugmentedRequest).rateLimit?.resetTime;
      const seconds = resetTime ? Math.ceil((resetTime.getTime() - Date.now()) / 1000) : 1;
      res.setHeader('Retry-After', String(Math.max(1, seconds)));
      next(new MaubotApiError('login_rate_limited'));
    },
  };
  return [
    // The default key is the address (IPv6 by /56 network).
    rateLimit({ ...common, limit: limits.perAddress }),
    rateLimit({
      ...common,
      limit: limits.perUser,
      skip: (req) => usernameOf(req) === undefined,
      keyGenerator: (req) => `user:${usernameOf(req)}`,
    }),
  ];
}
