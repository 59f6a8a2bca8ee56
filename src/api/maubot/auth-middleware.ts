import type { NextFunction, Request, Response } from 'express';
import type { AdminAuthService } from '../../admins/admin-auth-service';
import { MaubotApiError } from './errors';

/** Bearer header first; without one (or with another scheme) the `access_token` query. */
export function requestToken(req: Request): string {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Bearer ')) return header.slice('Bearer '.length);
  const query = req.query.access_token;
  return typeof query === 'string' ? query : '';
}

/** The admin behind the request's token; throws maubot's 401 errors otherwise. */
export function requireAdmin(admins: AdminAuthService, req: Request): string {
  const token = requestToken(req);
  if (token === '') throw new MaubotApiError('auth_token_missing');
  const user = admins.userForToken(token);
  if (user === null) throw new MaubotApiError('auth_token_invalid');
  return user;
}

/** Paths that check credentials themselves (or need none), exactly as maubot exempts them. */
function isExempt(path: string): boolean {
  return (
    path.startsWith('/auth/') ||
    path.startsWith('/client/auth_external_sso/complete/') ||
    path === '/features' ||
    path === '/logs'
  );
}

/** Runs before routing, so unknown paths and wrong methods without a token are 401 too. */
export function maubotAuth(admins: AdminAuthService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!isExempt(req.path)) res.locals.user = requireAdmin(admins, req);
    next();
  };
}
