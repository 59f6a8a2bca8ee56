import type { ErrorRequestHandler } from 'express';
import { BridgeUnavailableError, ConnectionError } from '../../bridge/connection-errors';
import { apiErrorMiddleware, type ErrorKind } from '../../http/error-kinds';
import type { Logger } from '../../logging/logger';
import { ProvisioningApiError } from './errors';

function fromKind(kind: ErrorKind): ProvisioningApiError {
  switch (kind.kind) {
    case 'notFound':
      return new ProvisioningApiError('HS_NOTFOUND', 'Not found');
    case 'methodNotAllowed':
      return new ProvisioningApiError('HS_METHOD_NOT_ALLOWED', 'Method not allowed');
    case 'bodyNotJson':
      return new ProvisioningApiError('HS_BAD_VALUE', 'Request body is not valid JSON');
    case 'tooLarge':
      return new ProvisioningApiError('HS_BAD_VALUE', 'Request body is too large', {}, 413);
    // Bodies are read as JSON whatever their type (json-body.ts); hookshot never answers 415.
    case 'unsupportedMediaType':
      return new ProvisioningApiError('HS_BAD_VALUE', kind.message);
    case 'badRequest':
      return new ProvisioningApiError('HS_BAD_VALUE', kind.message);
    case 'internal':
      return new ProvisioningApiError('HS_UNKNOWN', 'An internal error occurred');
  }
}

export function provisioningErrorHandler(logger: Logger): ErrorRequestHandler {
  const render = apiErrorMiddleware(logger, {
    isApiError: (err): err is ProvisioningApiError => err instanceof ProvisioningApiError,
    fromKind,
  });
  // The connection services' refusals carry hookshot's errcodes already.
  return (err: unknown, req, res, next) => {
    const apiError =
      err instanceof ConnectionError
        ? new ProvisioningApiError(
            err.errcode,
            err.message,
            err.extra,
            err instanceof BridgeUnavailableError ? 503 : undefined,
          )
        : err;
    render(apiError, req, res, next);
  };
}
