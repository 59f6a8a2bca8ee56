import type { Bridge } from '../bridge/bridge';
import type { BridgeIntegration } from '../bridge/integration';
import { feedIntegration } from '../feeds/feed-integration';
import { githubIntegration } from '../github/github-integration';
import { jiraIntegration } from '../jira/jira-integration';
import { outboundIntegration } from '../outbound/outbound-integration';
import { webhookIntegration } from '../webhooks/webhook-integration';

/**
 * The bridge's integrations, in start order (and stop order: webhooks and feeds stop taking
 * work before outbound deliveries drain). A new one is declared here and nowhere else.
 */
export const INTEGRATIONS: readonly BridgeIntegration<unknown, object>[] = [
  webhookIntegration,
  feedIntegration,
  outboundIntegration,
  githubIntegration,
  jiraIntegration,
];

/** The running integrations the listeners and the provisioning API reach; null when off. */
export function integrationsOf(bridge: Bridge) {
  return {
    webhooks: bridge.runtime(webhookIntegration),
    feeds: bridge.runtime(feedIntegration),
    github: bridge.runtime(githubIntegration),
    jira: bridge.runtime(jiraIntegration),
  };
}
