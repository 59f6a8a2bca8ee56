import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema';
import { badValue } from '../bridge/connection-errors';
import {
  OUTBOUND_HOOK,
  type ConnectionKind,
  type ConnectionSecrets,
  type CreateInput,
  type PreparedConnection,
  type StoredConnection,
  type UpdateInput,
} from '../bridge/connection-types';
import { checkDestination, EgressRefusedError } from '../net/egress';
import { parseHttpUrl } from '../util/http-url';

export const OUTBOUND_METHODS = ['PUT', 'POST'] as const;
export type OutboundMethod = (typeof OUTBOUND_METHODS)[number];

/** The state content of an outbound hook. */
export interface OutboundHookConfig {
  name: string;
  url: string;
  method: OutboundMethod;
}

export const PRIVATE_DESTINATION_MESSAGE = 'Outbound URL must not point to a private address';

/**
 * hookshot's checks of an outbound hook state, with its messages (answered as 400 here, where
 * upstream answered 500). The name length is only checked on create, as upstream does.
 */
export function validateOutboundHookConfig(
  body: Record<string, unknown>,
  checkNameLength: boolean,
): OutboundHookConfig {
  const { name, url } = body;
  const method = body.method ?? 'PUT';
  if (typeof name !== 'string') throw badValue('A webhook name must be a string.');
  if (checkNameLength && (name.length < 3 || name.length > 64)) {
    throw badValue('A webhook name must be between 3-64 characters.');
  }
  if (typeof url !== 'string') throw badValue('Outbound URL must be a string');
  const parsed = parseHttpUrl(url);
  if (parsed === 'invalid') throw badValue('Outbound URL is invalid');
  if (parsed === 'scheme') throw badValue('Outbound URL protocol must be http or https');
  if (typeof method !== 'string' || !(OUTBOUND_METHODS as readonly string[]).includes(method)) {
    throw badValue(`Outbound Method must be one of ${OUTBOUND_METHODS.join(',')}`);
  }
  return { name, url, method: method as OutboundMethod };
}

export interface OutboundHookKindDeps {
  config: Config;
}

/**
 * Outbound webhooks: room messages are sent to a URL (see OutboundSender). The state key is the
 * hook's name; the token the receiver checks is a side secret of the connection row, never in
 * room state.
 */
export class OutboundHookKind implements ConnectionKind {
  readonly declaration = OUTBOUND_HOOK;
  readonly tombstone = { disabled: true };

  constructor(private readonly deps: OutboundHookKindDeps) {}

  async create({ body, existing }: CreateInput): Promise<PreparedConnection> {
    const config = validateOutboundHookConfig(body, true);
    await this.checkReachable(config.url);
    const replaced = existing.find((c) => c.stateKey === config.name);
    const prepared: PreparedConnection = { stateKey: config.name, config: { ...config } };
    // Re-creating a hook of the same name keeps the token its receiver already knows.
    if (replaced === undefined || typeof replaced.secrets?.token !== 'string') {
      prepared.secrets = { token: `hs-ob-${randomUUID()}` };
    }
    return prepared;
  }

  async update({ current, body }: UpdateInput): Promise<PreparedConnection> {
    const config = validateOutboundHookConfig({ ...current.config, ...body }, false);
    // The state key is fixed once created; a changed name is only a label.
    await this.checkReachable(config.url);
    return { stateKey: current.stateKey, config: { ...config } };
  }

  secrets(connection: StoredConnection): Promise<ConnectionSecrets> {
    const token = connection.secrets?.token;
    return Promise.resolve(typeof token === 'string' ? { shown: { token } } : {});
  }

  /** Refuses destinations inside the network at once rather than failing every delivery. */
  private async checkReachable(url: string): Promise<void> {
    try {
      await checkDestination(new URL(url), this.deps.config.allowPrivateDestinations);
    } catch (err) {
      if (err instanceof EgressRefusedError) throw badValue(PRIVATE_DESTINATION_MESSAGE);
      // A name that does not resolve now may well resolve later; still, it cannot be checked.
      throw badValue('Outbound URL host could not be resolved');
    }
  }
}
