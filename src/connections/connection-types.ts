import type { Config } from '../config/schema';

/** One kind of room connection: its state event types, service and when it is offered. */
export interface ConnectionTypeDeclaration {
  /** hookshot's short type name, the key of /v1/connectiontypes. */
  type: string;
  eventType: string;
  legacyEventTypes: readonly string[];
  /** The permission service category (hookshot's names). */
  service: string;
  /** Offered by /v1/connectiontypes when the config enables it. */
  isEnabled(config: Config): boolean;
}

const EVENT_PREFIX = 'uk.half-shot.matrix-hookshot';

/** Every connection type Switchboard knows, in the order /v1/connectiontypes lists them. */
export const CONNECTION_TYPES: readonly ConnectionTypeDeclaration[] = [
  {
    type: 'JiraProject',
    eventType: `${EVENT_PREFIX}.jira.project`,
    legacyEventTypes: ['uk.half-shot.matrix-github.jira.project'],
    service: 'jira',
    isEnabled: (c) => c.jira !== null,
  },
  {
    type: 'GithubRepo',
    eventType: `${EVENT_PREFIX}.github.repository`,
    legacyEventTypes: ['uk.half-shot.matrix-github.repository'],
    service: 'github',
    isEnabled: (c) => c.github !== null,
  },
  {
    type: 'Webhook',
    eventType: `${EVENT_PREFIX}.generic.hook`,
    legacyEventTypes: ['uk.half-shot.matrix-github.generic.hook'],
    service: 'generic',
    isEnabled: (c) => c.webhooks?.enabled === true,
  },
  {
    type: 'Feed',
    eventType: `${EVENT_PREFIX}.feed`,
    legacyEventTypes: [],
    service: 'feeds',
    isEnabled: (c) => c.feeds?.enabled === true,
  },
];

export function enabledConnectionTypes(config: Config): ConnectionTypeDeclaration[] {
  return CONNECTION_TYPES.filter((t) => t.isEnabled(config));
}
