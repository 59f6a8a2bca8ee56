import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RenderableError } from './error-kinds';

/**
 * After the routes: an operation the spec documents but no handler serves yet. The body is
 * written directly (not through res.json) because 501 is deliberately absent from the spec.
 */
export function notImplemented(make: () => RenderableError): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!(req as Request & { openapi?: unknown }).openapi) {
      next();
      return;
    }
    const error = make();
    res.status(error.status).type('application/json').send(JSON.stringify(error.body));
  };
}
