import type { ErrorRequestHandler, Request } from 'express';
import type { Logger } from '../logging/logger';
import { BodyNotJsonError } from './json-body';
import { loggablePath } from './log-path';

/**
 * What went wrong, in the few cases both APIs distinguish; each API renders these in its own
 * error shape.
 */
export type ErrorKind =
  | { kind: 'notFound' }
  | { kind: 'methodNotAllowed' }
  | { kind: 'bodyNotJson' }
  | { kind: 'badRequest'; message: string }
  | { kind: 'tooLarge' }
  | { kind: 'unsupportedMediaType'; message: string }
  | { kind: 'internal' };

interface HttpLikeError {
  status?: number;
  message?: string;
  errors?: { path?: string; message?: string }[];
  headers?: Record<string, string>;
  type?: string;
  code?: string;
}

function describe(err: HttpLikeError): string {
  const details = (err.errors ?? [])
    .map((e) => `${(e.path ?? '').replace(/^[./]/, '')}: ${e.message ?? 'invalid'}`)
    .join(', ');
  return details || err.message || 'Bad request';
}

/** A response-validation failure: the handler broke the contract. */
function isResponseValidationError(e: HttpLikeError): boolean {
  return e.status === 500 && (e.errors ?? []).some((x) => /^[./]response/.test(x.path ?? ''));
}

function classify(err: unknown): ErrorKind {
  if (err instanceof BodyNotJsonError) return { kind: 'bodyNotJson' };
  if (typeof err !== 'object' || err === null) return { kind: 'internal' };
  const e = err as HttpLikeError;
  if (e.code === 'LIMIT_FILE_SIZE' || e.type === 'entity.too.large') return { kind: 'tooLarge' };
  switch (e.status) {
    case 400:
      return { kind: 'badRequest', message: describe(e) };
    case 404:
      return { kind: 'notFound' };
    case 405:
      return { kind: 'methodNotAllowed' };
    case 413:
      return { kind: 'tooLarge' };
    case 415:
      return { kind: 'unsupportedMediaType', message: describe(e) };
    default:
      return { kind: 'internal' };
  }
}

/**
 * The validator's Allow lists the spec's methods; HEAD is served wherever GET is (see
 * openapi.ts), so it is listed there too, and nowhere else.
 */
function withHead(allow: string): string {
  const methods = allow.split(',').map((m) => m.trim());
  if (!methods.includes('GET') || methods.includes('HEAD')) return allow;
  return [...methods, 'HEAD'].join(', ');
}

export interface RenderableError {
  status: number;
  body: Record<string, unknown>;
}

export interface ErrorShape<E extends RenderableError> {
  /** The API's own error type, passed through as it is. */
  isApiError(err: unknown): err is E;
  fromKind(kind: ErrorKind, req: Request): E;
}

/** One error middleware per API: any error becomes that API's error body, never a crash. */
export function apiErrorMiddleware<E extends RenderableError>(
  logger: Logger,
  shape: ErrorShape<E>,
): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    let apiError: E;
    if (shape.isApiError(err)) {
      apiError = err;
    } else {
      const kind = classify(err);
      if (kind.kind === 'internal') {
        const message = isResponseValidationError(err as HttpLikeError)
          ? 'response does not match the API contract'
          : 'unhandled error';
        logger.error({ err, method: req.method, path: loggablePath(req.originalUrl) }, message);
      }
      const allow = (err as HttpLikeError).headers?.Allow;
      if (kind.kind === 'methodNotAllowed' && allow) res.setHeader('Allow', withHead(allow));
      apiError = shape.fromKind(kind, req);
    }
    res.status(apiError.status).json(apiError.body);
  };
}
