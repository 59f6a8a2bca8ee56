import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';

/** Thrown for a body that is not valid JSON; each API maps it to its own errcode. */
export class BodyNotJsonError extends Error {
  override name = 'BodyNotJsonError';
}

const PASS_THROUGH = /^(multipart\/|application\/zip|application\/octet-stream)/i;

/**
 * Reads a request body as JSON whatever its Content-Type (maubot's UI posts JSON as
 * text/plain) and marks it as JSON for the validator. Zip and multipart bodies pass untouched;
 * an empty body leaves `req.body` undefined. Over the limit, body-parser's 413 error is passed on.
 */
export function jsonBody(
  limit: string,
  /** Requests whose body is not JSON whatever it says (e.g. archive uploads). */
  skip: (req: Request) => boolean = () => false,
): RequestHandler {
  const readText = express.text({
    limit,
    type: (req) => !PASS_THROUGH.test(req.headers['content-type'] ?? '') && !skip(req as Request),
  });
  const parse = (req: Request, _res: Response, next: NextFunction): void => {
    if (typeof req.body !== 'string') {
      next();
      return;
    }
    const text = req.body;
    if (text.trim() === '') {
      req.body = undefined;
      next();
      return;
    }
    try {
      req.body = JSON.parse(text) as unknown;
    } catch {
      next(new BodyNotJsonError('Request body is not JSON'));
      return;
    }
    req.headers['content-type'] = 'application/json';
    next();
  };
  // One layer, and nothing at all for requests without a body (most of them).
  return (req: Request, res: Response, next: NextFunction): void => {
    if (
      req.headers['content-length'] === undefined &&
      req.headers['transfer-encoding'] === undefined
    ) {
      next();
      return;
    }
    readText(req, res, (err?: unknown) => {
      if (err) next(err);
      else parse(req, res, next);
    });
  };
}
