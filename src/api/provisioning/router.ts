import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../config/schema';
import type { ConnectionService } from '../../bridge/connection-service';
import { jsonBody } from '../../http/json-body';
import { bodyKinds, loadSpec, openApiValidator } from '../../http/openapi';
import { notImplemented } from '../../http/not-implemented';
import { nulPathNotFound } from '../../http/nul-path';
import type { GithubService } from '../../github/github-service';
import type { JiraService } from '../../jira/jira-service';
import type { Logger } from '../../logging/logger';
import { provisioningAuth, requireUserAndRoom } from './auth-middleware';
import { provisioningErrorHandler } from './error-middleware';
import { ProvisioningApiError } from './errors';
import { connectionHandlers } from './handlers/connections';
import { githubHandlers } from './handlers/github';
import { jiraHandlers } from './handlers/jira';
import { metaHandlers } from './handlers/meta';

export interface ProvisioningApiDeps {
  config: Config;
  logger: Logger;
  connections: ConnectionService;
  /** The JIRA helpers; null or absent when JIRA is not configured. */
  jira?: JiraService | null;
  /** The GitHub helpers; null or absent when GitHub is not configured. */
  github?: GithubService | null;
}

function serviceRoutes(configured: boolean, service: string) {
  return (_req: Request, _res: Response, next: NextFunction): void => {
    if (!configured) throw new ProvisioningApiError('HS_NOTFOUND', `${service} is not configured`);
    next();
  };
}

/** hookshot's provisioning API v1, mounted at /v1. */
export function createProvisioningRouter(deps: ProvisioningApiDeps): Router {
  const { config, logger } = deps;
  const meta = metaHandlers(config);
  const connections = connectionHandlers(deps.connections);
  const router = Router();

  // hookshot's order: health is open; the secret is checked before any route matching;
  // then every route but /connectiontypes needs a userId, and room routes a roomId.
  router.get('/health', meta.health);
  router.use(provisioningAuth(config.provisioning.secret));
  router.use(requireUserAndRoom);
  router.use(nulPathNotFound);
  const bodyKind = bodyKinds(loadSpec('provisioning'));
  router.use(jsonBody('100kb', (req) => bodyKind(req.method, req.path) === 'json'));
  router.use(
    openApiValidator({
      spec: loadSpec('provisioning'),
      responseValidation: config.server.responseValidation,
      logger,
    }),
  );

  router.get('/connectiontypes', meta.connectionTypes);

  // The GitHub and JIRA helpers exist only when their service is configured.
  router.use('/github', serviceRoutes(config.github !== null, 'GitHub'));
  router.use('/jira', serviceRoutes(config.jira !== null, 'JIRA'));
  if (deps.github) {
    const github = githubHandlers(deps.github);
    router.get('/github/oauth', github.oauth);
    router.get('/github/account', github.account);
    router.get('/github/orgs/:orgName/repositories', github.orgRepositories);
    router.get('/github/repositories', github.userRepositories);
  }
  if (deps.jira) {
    const jira = jiraHandlers(deps.jira);
    router.get('/jira/oauth', jira.oauth);
    router.get('/jira/account', jira.account);
    router.get('/jira/instances/:instanceName/projects', jira.projects);
  }

  router.get('/:roomId/connections', connections.list);
  router.get('/:roomId/connections/:connectionIdOrType', connections.get);
  router.put('/:roomId/connections/:connectionIdOrType', connections.create);
  router.patch('/:roomId/connections/:connectionIdOrType', connections.update);
  router.delete('/:roomId/connections/:connectionIdOrType', connections.remove);

  router.use(
    notImplemented(
      () =>
        new ProvisioningApiError('HS_UNKNOWN', 'This operation is not implemented yet', {}, 501),
    ),
  );
  router.use(provisioningErrorHandler(logger));
  return router;
}
