import type { ErrorRequestHandler, Request } from 'express';
import { apiErrorMiddleware, type ErrorKind } from '../../http/error-kinds';
import type { Logger } from '../../logging/logger';
import { MaubotApiError } from './errors';

function bodyIsNotAnObject(req: Request): boolean {
  const body: unknown = req.body;
  return typeof body !== 'object' || body === null || Array.isArray(body);
}

function fromKind(kind: ErrorKind, req: Request): MaubotApiError {
  switch (kind.kind) {
    case 'notFound':
      return new MaubotApiError('resource_not_found');
    case 'methodNotAllowed':
      return new MaubotApiError('method_not_allowed');
    case 'bodyNotJson':
      return new MaubotApiError('body_not_json');
    case 'tooLarge':
      return new MaubotApiError('unhandled_http_413');
    case 'unsupportedMediaType':
      return new MaubotApiError('unsupported_media_type', kind.message);
    case 'badRequest':
      // maubot answers body_not_json for any body it cannot use as a JSON object.
      return kind.message.startsWith('body') && bodyIsNotAnObject(req)
        ? new MaubotApiError('body_not_json')
        : new MaubotApiError('invalid_request', kind.message);
    case 'internal':
      return new MaubotApiError('internal_server_error');
  }
}

export function maubotErrorHandler(logger: Logger): ErrorRequestHandler {
  return apiErrorMiddleware(logger, {
    isApiError: (err): err is MaubotApiError => err instanceof MaubotApiError,
    fromKind,
  });
}
