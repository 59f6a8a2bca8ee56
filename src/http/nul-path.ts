import type { NextFunction, Request, Response } from 'express';

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL text cannot hold a NUL byte, so no stored id contains one: a path with `%00` names
 * nothing and is answered 404 in the API's own shape, before any query could fail on it. So is
 * a path whose escapes are not UTF-8 (`%ED%A0%80`, `%zz`): no id is spelt that way, and routing
 * would otherwise answer a 400 the operation does not declare.
 */
export function nulPathNotFound(req: Request, _res: Response, next: NextFunction): void {
  next(
    req.path.includes('%00') || !decodes(req.path)
      ? Object.assign(new Error('NUL byte or undecodable escape in path'), { status: 404 })
      : undefined,
  );
}
