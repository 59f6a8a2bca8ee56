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

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hasBody(req: Request): boolean {
  return (
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  );
}

/**
 * Reads the body of an operation that takes JSON as JSON, whatever its Content-Type says
 * (maubot's UI posts JSON as text/plain, and maubot never looks at the type), and marks it as
 * JSON for the validator. An empty or absent body leaves `req.body` undefined; the handler
 * decides (maubot answers `body_not_json` once its own checks have passed). Other operations'
 * bodies are not read at all. Over the limit, body-parser's 413 error is passed on.
 */
export function jsonBody(limit: string, takesJson: (req: Request) => boolean): RequestHandler {
  const readBytes = express.raw({ limit, type: () => true });
  const parse = (req: Request, next: NextFunction): void => {
    const bytes: unknown = req.body;
    req.body = undefined;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
      next();
      return;
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      next(new BodyNotJsonError('Request body is not UTF-8'));
      return;
    }
    if (text.trim() === '') {
      next();
      return;
    }
    try {
      req.body = JSON.parse(text) as unknown;
    } catch {
      next(new BodyNotJsonError('Request body is not JSON'));
      return;
    }
    next();
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!takesJson(req)) {
      next();
      return;
    }
    req.headers['content-type'] = 'application/json';
    if (!hasBody(req)) {
      next();
      return;
    }
    readBytes(req, res, (err?: unknown) => {
      // A body in an encoding no one can decode is as unreadable as bad JSON (not a 415).
      if ((err as { type?: string } | undefined)?.type === 'encoding.unsupported') {
        next(new BodyNotJsonError('Request body has an unknown content encoding'));
      } else if (err) next(err);
      else parse(req, next);
    });
  };
}
