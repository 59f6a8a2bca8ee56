import type { NextFunction, Request, Response } from 'express';

/**
 * PostgreSQL text cannot hold a NUL byte, so no stored id contains one: a path with `%00` names
 * nothing and is answered 404 in the API's own shape, before any query could fail on it.
 */
export function nulPathNotFound(req: Request, _res: Response, next: NextFunction): void {
  next(
    req.path.includes('%00')
      ? Object.assign(new Error('NUL byte in path'), { status: 404 })
      : undefined,
  );
}
