import express, { type Express } from 'express';
import type { AdminAuthService } from '../admins/admin-auth-service';
import type { ClientAuthService } from '../clients/client-auth-service';
import type { ClientService } from '../clients/client-service';
import type { Bridge } from '../bridge/bridge';
import type { InstanceService } from '../instances/instance-service';
import type { InstanceDatabaseService } from '../instances/instance-database-service';
import { MAUBOT_API_PATH, createMaubotRouter } from '../api/maubot/router';
import { createProvisioningRouter } from '../api/provisioning/router';
import { PROVISIONING_API_PATH } from '../client';
import {
  DEFAULT_WEBHOOK_BODY_BYTES,
  RESOURCES,
  type Config,
  type Resource,
} from '../config/schema';
import type { Database } from '../db/database';
import type { LogHub } from '../logging/log-hub';
import type { Logger } from '../logging/logger';
import type { PluginService } from '../plugins/plugin-service';
import { accessLog } from '../http/access-log';
import { docsRouter } from '../http/docs';
import { MAUBOT_UI_PATH, maubotUiRouter } from '../ui/maubot-ui';
import { docsPageHeaders, maubotUiHeaders } from '../http/page-headers';
import { ingressErrorHandler } from '../api/ingress/error-middleware';
import { createIngressRouter } from '../api/ingress/router';
import { metricsRouter, type Metrics } from '../http/metrics';
import { integrationsOf } from './integrations';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Database;
  admins: AdminAuthService;
  plugins: PluginService;
  clients: ClientService;
  clientAuth: ClientAuthService;
  instances: InstanceService;
  instanceDatabases: InstanceDatabaseService;
  logHub: LogHub;
  metrics: Metrics;
  bridge: Bridge;
  /** What this listener serves; all resources when omitted. */
  resources?: readonly Resource[];
}

/** Builds the HTTP app of one listener; Switchboard.listen decides where it listens. */
export function createApp(deps: AppDeps): Express {
  const { config, logger, db } = deps;
  const resources = new Set(deps.resources ?? RESOURCES);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // API answers are never revalidated by clients; hashing every body for an ETag is waste.
  app.set('etag', false);
  // req.ip (login limits, logs) is the client's address as the trusted proxies report it.
  if (config.server.trustedProxies.length > 0) {
    app.set('trust proxy', config.server.trustedProxies);
  }

  app.use(accessLog(logger, deps.metrics));

  // The APIs first: they carry nearly all traffic, and every layer before them costs each request.
  if (resources.has('maubot')) app.use(MAUBOT_API_PATH, createMaubotRouter(deps));
  const integrations = integrationsOf(deps.bridge);
  if (resources.has('provisioning')) {
    app.use(
      PROVISIONING_API_PATH,
      createProvisioningRouter({
        ...deps,
        connections: deps.bridge.connections,
        jira: integrations.jira?.service ?? null,
        github: integrations.github?.service ?? null,
      }),
    );
  }
  if (resources.has('webhooks')) {
    app.use(
      createIngressRouter({
        ...integrations,
        bodyLimit: config.webhooks?.maxBodyBytes ?? DEFAULT_WEBHOOK_BODY_BYTES,
      }),
    );
  }
  if (resources.has('maubot')) {
    // The API above answers everything under its own path; the rest is the UI.
    app.use(MAUBOT_UI_PATH, maubotUiHeaders());
    app.use(maubotUiRouter(config));
  }
  if (resources.has('docs')) {
    app.use(['/docs', '/openapi'], docsPageHeaders());
    app.use(docsRouter());
  }
  if (resources.has('metrics')) app.use(metricsRouter(deps.metrics));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready means the database answers; the provisioning bot's state is reported beside it
  // (the maubot side works without it).
  app.get('/ready', async (_req, res) => {
    const { bot } = deps.bridge;
    const provisioningBot = { status: bot.status, syncing: bot.syncing };
    try {
      await db.ping();
      res.json({ ready: true, provisioningBot });
    } catch (err) {
      logger.warn({ err }, 'readiness check failed');
      res.status(503).json({ ready: false, provisioningBot });
    }
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });
  // Whatever escapes the routers above is answered as JSON and logged, never Express's page.
  app.use(ingressErrorHandler(logger));
  return app;
}
