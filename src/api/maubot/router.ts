import { Router, type NextFunction, type Request, type Response } from 'express';
import type { AdminAuthService } from '../../admins/admin-auth-service';
import type { ApiFeature, Config } from '../../config/schema';
import { UploadSpool, unreadableMultipart, uploadSpoolDir } from './archive-upload';
import { jsonBody } from '../../http/json-body';
import { bodyKinds, loadSpec, openApiValidator, type BodyKind } from '../../http/openapi';
import { notImplemented } from '../../http/not-implemented';
import { nulPathNotFound } from '../../http/nul-path';
import type { Logger } from '../../logging/logger';
import { maubotAuth } from './auth-middleware';
import { maubotErrorHandler } from './error-middleware';
import { loginRateLimits } from './login-rate-limit';
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
  const spool = new UploadSpool(MAX_UPLOAD_BYTES, uploadSpoolDir(config.dataDir));
  const specBodyKind = bodyKinds(loadSpec('maubot'));
  // The proxy's path spans several segments, which the spec's path template cannot express.
  const bodyKind = (req: Request): BodyKind =>
    req.path.startsWith('/proxy/') ? 'raw' : specBodyKind(req.method, req.path);
  const plugins = pluginHandlers(deps.plugins, (req, res) => spool.uploadedFile(req, res));
  const clients = clientHandlers(deps.clients);
  const clientAuth = clientAuthHandlers(deps.clientAuth);
  const instances = instanceHandlers(deps.instances);
  const instanceDatabase = instanceDatabaseHandlers(deps.instanceDatabases);
  const router = Router();

  // maubot authenticates before routing: unknown paths without a token are 401, not 404.
  router.use(maubotAuth(admins));
  router.use(nulPathNotFound);
  router.use(exactPaths);
  // Plugin archives arrive as raw zip bodies (what maubot's UI and mbc send) and are spooled
  // to disk; like maubot, any body that is not multipart is taken as the zip.
  router.use(spool.archiveBody((req) => bodyKind(req) === 'archive'));
  router.use(jsonBody('1mb', (req) => bodyKind(req) === 'json'));
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
  router.use(unreadableMultipart);
  router.use(featureGate(config.apiFeatures));

  router.post('/auth/login', ...loginRateLimits(config.server.loginRateLimit, logger), auth.login);
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
  router.post('/client/:id/verify', clients.verify);
  router.post('/client/:id/generate_recovery_key', clients.generateRecoveryKey);

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
