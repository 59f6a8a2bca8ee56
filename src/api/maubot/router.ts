import { Router, type NextFunction, type Request, type Response } from 'express';
import type { AdminAuthService } from '../../admins/admin-auth-service';
import type { ApiFeature, Config } from '../../config/schema';
import { UploadSpool } from '../../http/archive-upload';
import { jsonBody } from '../../http/json-body';
import { loadSpec, openApiValidator } from '../../http/openapi';
import { notImplemented } from '../../http/not-implemented';
import type { Logger } from '../../logging/logger';
import { maubotAuth } from './auth-middleware';
import { maubotErrorHandler } from './error-middleware';
import { MaubotApiError } from './errors';
import { authHandlers } from './handlers/auth';
import { metaHandlers } from './handlers/meta';
import { pluginHandlers } from './handlers/plugins';
import { clientHandlers } from './handlers/clients';
import { clientAuthHandlers } from './handlers/client-auth';
import { proxyHandler } from './handlers/proxy';
import type { ClientService } from '../../clients/client-service';
import type { ClientAuthService } from '../../clients/client-auth-service';
import type { InstanceService } from '../../instances/instance-service';
import { instanceHandlers } from './handlers/instances';
import { instanceDatabaseHandlers } from './handlers/instance-database';
import type { InstanceDatabaseService } from '../../instances/instance-database-service';
import { translateDomainErrors } from './domain-errors';
import type { PluginService } from '../../plugins/plugin-service';

export { MAUBOT_API_PATH } from '../../client';
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

export interface MaubotApiDeps {
  config: Config;
  logger: Logger;
  admins: AdminAuthService;
  plugins: PluginService;
  clients: ClientService;
  clientAuth: ClientAuthService;
  instances: InstanceService;
  instanceDatabases: InstanceDatabaseService;
}

interface OpenApiRequest extends Request {
  openapi?: { schema?: Record<string, unknown> };
}

function isArchiveUpload(req: Request): boolean {
  return (
    (req.method === 'POST' && req.path === '/plugins/upload') ||
    (req.method === 'PUT' && /^\/plugin\/[^/]+$/.test(req.path))
  );
}

/** Bodies that are streamed elsewhere as they are: archive uploads and the Matrix API proxy. */
function isRawBody(req: Request): boolean {
  return isArchiveUpload(req) || req.path.startsWith('/proxy/');
}

/**
 * maubot's routes are exact paths: `/plugins/` is not `/plugins` and answers 404 (after the
 * token check). The proxy's path is the homeserver's and is passed on as it is.
 */
function exactPaths(req: Request, _res: Response, next: NextFunction): void {
  if (req.path.endsWith('/') && !req.path.startsWith('/proxy/')) {
    throw new MaubotApiError('resource_not_found');
  }
  next();
}

/** A disabled `apiFeatures` group's routes do not exist (maubot answers 404 for them). */
function featureGate(features: Config['apiFeatures']) {
  return (req: OpenApiRequest, _res: Response, next: NextFunction): void => {
    const feature = req.openapi?.schema?.['x-switchboard-feature'] as ApiFeature | undefined;
    if (feature !== undefined && !features[feature]) {
      throw new MaubotApiError('resource_not_found');
    }
    next();
  };
}

/** maubot's Management API, mounted at /_matrix/maubot/v1. */
export function createMaubotRouter(deps: MaubotApiDeps): Router {
  const { config, logger, admins } = deps;
  const auth = authHandlers(config, admins);
  const meta = metaHandlers(config, admins);
  const spool = new UploadSpool(MAX_UPLOAD_BYTES);
  const plugins = pluginHandlers(deps.plugins, (req, res) => spool.uploadedFile(req, res));
  const clients = clientHandlers(deps.clients);
  const clientAuth = clientAuthHandlers(deps.clientAuth);
  const instances = instanceHandlers(deps.instances);
  const instanceDatabase = instanceDatabaseHandlers(deps.instanceDatabases);
  const router = Router();

  // maubot authenticates before routing: unknown paths without a token are 401, not 404.
  router.use(maubotAuth(admins));
  router.use(exactPaths);
  // Plugin archives arrive as raw zip bodies (what maubot's UI and mbc send) and are spooled
  // to disk; any other body on those routes is left for the validator to refuse.
  router.use(['/plugins/upload', '/plugin/:id'], spool.rawZip());
  router.use(jsonBody('1mb', isRawBody));
  router.use(
    openApiValidator({
      spec: loadSpec('maubot'),
      responseValidation: config.server.responseValidation,
      logger,
      multer: spool.multerOptions(),
      // `path` there spans several segments, which OpenAPI path templates cannot express.
      // (The validator joins base URL and path with an extra slash, hence `/+`.)
      ignorePaths: /^\/_matrix\/maubot\/v1\/+proxy\//,
    }),
  );
  router.use(featureGate(config.apiFeatures));

  router.post('/auth/login', auth.login);
  router.post('/auth/ping', auth.ping);
  router.get('/features', meta.features);
  router.get('/version', meta.version);
  router.get('/debug/open', meta.debugOpen);
  // The websocket upgrade is served on the HTTP server itself (see log-socket.ts).
  router.get('/logs', () => {
    throw new MaubotApiError(
      'invalid_request',
      'This is a websocket endpoint: connect with a websocket client',
    );
  });

  router.get('/plugins', plugins.list);
  router.post('/plugins/upload', plugins.upload);
  router.get('/plugin/:id', plugins.get);
  router.put('/plugin/:id', plugins.put);
  router.delete('/plugin/:id', plugins.delete);
  router.post('/plugin/:id/reload', plugins.reload);

  router.get('/instances', instances.list);
  router.get('/instance/:id', instances.get);
  router.put('/instance/:id', instances.put);
  router.delete('/instance/:id', instances.delete);
  router.get('/instance/:id/database', instanceDatabase.tables);
  router.post('/instance/:id/database/query', instanceDatabase.query);
  router.get('/instance/:id/database/:table', instanceDatabase.table);

  router.get('/clients', clients.list);
  router.post('/client/new', clients.create);
  router.get('/client/:id', clients.get);
  router.put('/client/:id', clients.put);
  router.delete('/client/:id', clients.delete);
  router.post('/client/:id/clearcache', clients.clearCache);
  router.post('/client/:id/verify', clients.crypto);
  router.post('/client/:id/generate_recovery_key', clients.crypto);

  router.get('/client/auth/servers', clientAuth.servers);
  router.post('/client/auth/:server/register', clientAuth.register);
  router.post('/client/auth/:server/login', clientAuth.login);
  router.post('/client/auth/:server/sso/:id/wait', clientAuth.waitForSso);
  router.get('/client/auth_external_sso/complete/:id', clientAuth.completeSso);

  // Outside the validator (see ignorePaths), so the feature switch is checked here.
  router.all('/proxy/:id/*path', (req, _res, next) => {
    next(config.apiFeatures.client_proxy ? undefined : new MaubotApiError('resource_not_found'));
  });
  router.all('/proxy/:id/*path', proxyHandler(deps.clients));

  router.use(notImplemented(() => new MaubotApiError('not_implemented')));
  router.use((_req, _res, next) => next(new MaubotApiError('resource_not_found')));
  router.use(translateDomainErrors);
  router.use(maubotErrorHandler(logger));
  return router;
}
