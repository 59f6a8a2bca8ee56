import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type RequestHandler } from 'express';
import type { Options as MulterOptions } from 'multer';
import * as OpenApiValidator from 'express-openapi-validator';
import { parse } from 'yaml';
import type { Logger } from '../logging/logger';
import { loggablePath } from './log-path';
import { OPENAPI_DIR } from '../paths';

export type ApiName = 'maubot' | 'provisioning';
export type OpenApiDocument = Record<string, unknown>;

const cache = new Map<ApiName, string>();

/** The spec text as committed; parsed anew for each consumer because the validator mutates it. */
export function loadSpec(name: ApiName): OpenApiDocument {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(OPENAPI_DIR, `${name}.yaml`), 'utf8');
    cache.set(name, text);
  }
  return parse(text) as OpenApiDocument;
}

export interface ValidatorOptions {
  spec: OpenApiDocument;
  /** fail: an invalid response becomes an error; log: it is logged and sent. */
  responseValidation: 'fail' | 'log';
  logger: Logger;
  /** multer options for an API with multipart bodies; without them multipart is not read. */
  multer?: MulterOptions;
  ignorePaths?: RegExp;
}

/**
 * Request and response validation against the spec. The specs list GET only, yet HEAD on a GET
 * route answers as GET without the body, as both upstream servers do (aiohttp and Express add
 * HEAD to every GET route): the validator sees such a request as GET, everything after it as
 * HEAD again (Express serves HEAD from GET routes and drops the body).
 */
export function openApiValidator(options: ValidatorOptions): RequestHandler {
  const validator = Router().use(validatorMiddleware(options));
  return (req, res, next) => {
    if (req.method !== 'HEAD') {
      validator(req, res, next);
      return;
    }
    req.method = 'GET';
    validator(req, res, (err?: unknown) => {
      req.method = 'HEAD';
      next(err);
    });
  };
}

function validatorMiddleware(options: ValidatorOptions): RequestHandler[] {
  const { logger } = options;
  return OpenApiValidator.middleware({
    apiSpec: options.spec as never,
    validateApiSpec: false,
    validateRequests: {
      // Both upstream servers ignore query parameters they do not know (clients rely on it).
      allowUnknownQueryParameters: true,
      coerceTypes: false,
    },
    validateResponses:
      options.responseValidation === 'log'
        ? {
            onError: (err, _body, req) =>
              logger.error(
                { err, method: req.method, path: loggablePath(req.originalUrl) },
                'response does not match the API contract',
              ),
          }
        : true,
    validateSecurity: false,
    validateFormats: true,
    coerceTypes: false,
    // An API without multipart bodies skips the uploader's layer on every request.
    fileUploader: options.multer ?? false,
    ...(options.ignorePaths ? { ignorePaths: options.ignorePaths } : {}),
  }) as RequestHandler[];
}

/** What an operation reads as its body: JSON, a plugin archive, anything (raw), or nothing. */
export type BodyKind = 'json' | 'archive' | 'raw' | 'none';

interface SpecOperation {
  requestBody?: { $ref?: string; content?: Record<string, unknown> };
}

function kindOf(op: SpecOperation, spec: OpenApiDocument): BodyKind {
  let body = op.requestBody;
  if (body?.$ref) {
    const name = body.$ref.split('/').at(-1)!;
    const components = spec.components as {
      requestBodies?: Record<string, SpecOperation['requestBody']>;
    };
    body = components.requestBodies?.[name];
  }
  const types = Object.keys(body?.content ?? {});
  if (types.includes('application/json')) return 'json';
  if (types.includes('application/zip')) return 'archive';
  return types.length > 0 ? 'raw' : 'none';
}

/**
 * The body kind of each operation of a spec, by method and path (relative to the API's base):
 * operations that take no body ignore whatever is sent, as both upstream servers do.
 */
export function bodyKinds(spec: OpenApiDocument): (method: string, path: string) => BodyKind {
  const routes: { method: string; pattern: RegExp; kind: BodyKind }[] = [];
  const paths = spec.paths as Record<string, Record<string, SpecOperation>>;
  for (const [path, item] of Object.entries(paths)) {
    const literal = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^${literal.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== 'object' || method === 'parameters') continue;
      routes.push({ method: method.toUpperCase(), pattern, kind: kindOf(op, spec) });
    }
  }
  return (method, path) =>
    routes.find((r) => r.method === method && r.pattern.test(path))?.kind ?? 'none';
}
