import { Router } from 'express';
import type { GithubEvents } from '../../github/github-events';
import type { GithubService } from '../../github/github-service';
import { staticPageHeaders } from '../../http/page-headers';
import type { JiraEvents } from '../../jira/jira-events';
import type { JiraService } from '../../jira/jira-service';
import type { WebhookDelivery } from '../../webhooks/webhook-delivery';
import { githubRoutes } from './handlers/github';
import { jiraRoutes } from './handlers/jira';
import { webhookRoutes } from './handlers/webhooks';

/** The OAuth callbacks' result pages (GitHub's at both of its paths, JIRA's). */
const OAUTH_PAGES = ['/oauth', '/github/oauth', '/jira/oauth'];

export interface IngressDeps {
  /** null when inbound webhooks are off; `delivery` is undefined until they are ready. */
  webhooks: { delivery: WebhookDelivery | undefined } | null;
  /** The webhooks' body limit (JIRA's deliveries have it too). */
  bodyLimit: number;
  github: { service: GithubService; events: GithubEvents } | null;
  jira: { service: JiraService; events: JiraEvents } | null;
}

/**
 * The `webhooks` listener: generic webhooks, GitHub's and JIRA's deliveries and OAuth callbacks.
 * Its errors go to ingressErrorHandler, which the app mounts last.
 */
export function createIngressRouter(deps: IngressDeps): Router {
  const { webhooks, github, jira } = deps;
  const router = Router();
  // Inbound hooks first: they are the busiest; GitHub's and JIRA's pass on what is not theirs.
  if (webhooks) {
    // The webhook runtime loads its sandbox asynchronously; until then its paths fall through.
    let routes: Router | undefined;
    router.use((req, res, next) => {
      const delivery = webhooks.delivery;
      if (!delivery) return next();
      routes ??= webhookRoutes(delivery, deps.bodyLimit);
      routes(req, res, next);
    });
  }
  if (github || jira) router.use(OAUTH_PAGES, staticPageHeaders());
  if (github) router.use(githubRoutes(github.events, github.service));
  if (jira) router.use(jiraRoutes(jira.events, jira.service, deps.bodyLimit));
  return router;
}
