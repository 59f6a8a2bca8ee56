import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { expectedAnswer } from '../../http/access-log';
import { loggablePath } from '../../http/log-path';
import type { Logger } from '../../logging/logger';
import { IngressError, type IngressShape } from './errors';

interface RouteAnswers {
  shape: IngressShape;
  /** The body limit the route's parsers apply, named in its 413 answer. */
  bodyLimit?: number;
}

const ROUTE_KEY = 'ingressRoute';

/** Marks the routes after it: their errors are answered in this shape. */
export function answersAs(shape: IngressShape, bodyLimit?: number): RequestHandler {
  const route: RouteAnswers = bodyLimit === undefined ? { shape } : { shape, bodyLimit };
  return (_req, res, next) => {
    res.locals[ROUTE_KEY] = route;
    next();
  };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** GitHub's callback pages: a whole document, the text escaped. */
export function githubPage(title: string, text: string): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><p>${escapeHtml(text)}</p></body></html>`
  );
}

/** JIRA's callback pages: one paragraph, as hookshot answers them. */
export function jiraPage(text: string): string {
  return `<p>${text}</p>`;
}

const RENDER: Record<IngressShape, (res: Response, err: IngressError) => void> = {
  hook: (res, err) => res.json({ ok: false, error: err.message }),
  errcode: (res, err) => res.json({ errcode: err.errcode, error: err.message }),
  githubPage: (res, err) => res.type('html').send(githubPage('GitHub login failed', err.message)),
  jiraPage: (res, err) => res.type('html').send(jiraPage(err.message)),
};

/** What an error the routes did not make means for the sender (body parsers' errors mostly). */
function fromForeign(err: unknown, { shape, bodyLimit }: RouteAnswers): IngressError | null {
  const { status, type } = (typeof err === 'object' && err !== null ? err : {}) as {
    status?: unknown;
    type?: unknown;
  };
  const hook = shape === 'hook';
  if (type === 'entity.too.large' || status === 413) {
    const text =
      hook && bodyLimit !== undefined
        ? `Body exceeds the limit of ${bodyLimit} bytes`
        : 'Request body is too large';
    return new IngressError(413, text, { errcode: 'HS_BAD_VALUE' });
  }
  if (type === 'entity.parse.failed')
    return new IngressError(400, 'Could not parse the request body');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return hook
      ? new IngressError(status, 'Could not read the request body')
      : new IngressError(400, 'Request body could not be read');
  }
  return null;
}

/**
 * The `webhooks` listener's one error middleware, and the app's last one: every error is
 * answered in its route's shape (JSON unless the route is a page), never Express's HTML page;
 * unexpected ones are logged through the logger.
 */
export function ingressErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      logger.error({ err, path: loggablePath(req.originalUrl) }, 'error after the answer began');
      res.end();
      return;
    }
    const route = res.locals[ROUTE_KEY] as RouteAnswers | undefined;
    const shape = route?.shape ?? 'errcode';
    let error =
      err instanceof IngressError ? err : route ? fromForeign(err, route) : elsewhere(err);
    if (error === null) {
      logger.error(
        { err, method: req.method, path: loggablePath(req.originalUrl) },
        'unhandled error',
      );
      error = new IngressError(500, internalText(shape));
    }
    if (error.logLevel) expectedAnswer(res, error.logLevel);
    res.status(error.status).set(error.headers);
    RENDER[error.shape ?? shape](res, error);
  };
}

/** An error of a route outside the ingress (the UI's static files, say): its own 4xx status. */
function elsewhere(err: unknown): IngressError | null {
  const status = (typeof err === 'object' && err !== null ? err : {}) as { status?: unknown };
  if (typeof status.status !== 'number' || status.status < 400 || status.status >= 500) return null;
  return new IngressError(status.status, STATUS_CODES[status.status] ?? 'Bad request');
}

function internalText(shape: IngressShape): string {
  if (shape === 'hook') return 'Failed to handle webhook';
  if (shape === 'githubPage') return 'Failed to handle oauth request';
  return 'An internal error occurred';
}
