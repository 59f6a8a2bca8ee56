import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import parseDuration from 'parse-duration';
import type { Config } from '../config/schema';
import { badValue, ConnectionError } from '../bridge/connection-errors';
import {
  WEBHOOK,
  type ConnectionKind,
  type ConnectionSecrets,
  type CreateInput,
  type PreparedConnection,
  type StoredConnection,
  type UpdateInput,
} from '../bridge/connection-types';
import {
  findWebhookHookOfConnection,
  insertWebhookHook,
  moveWebhookHook,
  setWebhookExpiryNoticeSent,
} from '../db/webhook-repository';
import { TransformationError, type TransformationRunner } from './transformation';
import type { WebhookHooks } from './webhook-hooks';

export const HOUR_MS = 3_600_000;
/** Under this much time left, a hook's expiry notice is due (or, on create, skipped). */
export const EXPIRY_NOTICE_MS = 3 * 24 * HOUR_MS;

/** The state content of an inbound webhook connection. */
export interface WebhookConfig {
  name: string;
  transformationFunction?: string;
  waitForComplete?: boolean;
  expirationDate?: string;
  /** false: notices leave the payload out (the default is the `includeHookBody` setting). */
  includeHookBody?: boolean;
  /** false: clients are asked not to show URL previews of the notices. */
  showUrlPreviews?: boolean;
  priority?: unknown;
  commandPrefix?: unknown;
}

// date-fns' yyyy-MM-dd'T'HH:mm:ss.SSSXX: milliseconds, then Z or a +hhmm / -hhmm offset.
const EXPIRY_PATTERN = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(Z|[+-]\d{4})$/;

/** The instant of a valid expirationDate, or NaN. */
export function parseExpirationDate(value: string): number {
  const match = EXPIRY_PATTERN.exec(value);
  if (!match) return Number.NaN;
  const [, local, zone] = match as unknown as [string, string, string];
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const time = Date.parse(`${local}${offset}`);
  // Date.parse rolls over impossible dates (Feb 30); compare the fields to refuse them.
  if (Number.isNaN(time)) return Number.NaN;
  const offsetMs =
    zone === 'Z'
      ? 0
      : (zone[0] === '-' ? -1 : 1) *
        (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3))) *
        60_000;
  return new Date(time + offsetMs).toISOString().slice(0, 23) === local ? time : Number.NaN;
}

export interface WebhookKindDeps {
  config: Config;
  db: Knex;
  runner: TransformationRunner;
  hooks: WebhookHooks;
  now?: () => number;
}

/** Inbound generic webhooks: hookshot's `Webhook` connection, with its hook id kept in a row. */
export class WebhookKind implements ConnectionKind {
  readonly declaration = WEBHOOK;
  readonly tombstone = { disabled: true };
  private readonly now: () => number;
  /** Hook ids written by persist, until committed puts them in the index. */
  private readonly pending = new Map<string, string>();

  constructor(private readonly deps: WebhookKindDeps) {
    this.now = deps.now ?? Date.now;
  }

  private get settings(): NonNullable<Config['webhooks']> {
    const settings = this.deps.config.webhooks;
    if (!settings) throw new ConnectionError('HS_DISABLED_FEATURE', WEBHOOK.disabledMessage);
    return settings;
  }

  async create(input: CreateInput): Promise<PreparedConnection> {
    const { name } = input.body;
    const body =
      name === undefined || name === null || name === ''
        ? // Dimension sends {} or {"name": ""} when its name field is left empty.
          { ...input.body, name: `webhook-${randomBytes(4).toString('hex')}` }
        : input.body;
    const config = this.validate(body);
    this.checkNewExpiry(config);
    await this.checkCompiles(config);
    return { stateKey: config.name, config: { ...config } };
  }

  async update(input: UpdateInput): Promise<PreparedConnection> {
    // A PATCH without expirationDate removes the expiry, as hookshot does.
    const merged: Record<string, unknown> = {
      ...input.current.config,
      expirationDate: undefined,
      ...input.body,
    };
    // Only the known fields are kept: the hook id stays a secret of the database.
    const config = this.validate(merged);
    if (config.name !== input.current.stateKey) {
      throw badValue('The name of a webhook cannot be changed');
    }
    await this.checkCompiles(config);
    return { stateKey: input.current.stateKey, config: { ...config } };
  }

  async persist(trx: Knex.Transaction, connection: StoredConnection): Promise<void> {
    const expiry = this.expiryOf(connection);
    // A hook that has less than 3 days left when written needs no warning.
    const noticeSent = expiry !== undefined && expiry - this.now() < EXPIRY_NOTICE_MS;
    const existing = await findWebhookHookOfConnection(trx, connection.id);
    if (existing) {
      await setWebhookExpiryNoticeSent(trx, existing.hookId, noticeSent);
      this.pending.set(connection.id, existing.hookId);
      return;
    }
    const hookId = randomUUID();
    await insertWebhookHook(trx, {
      hookId,
      connectionId: connection.id,
      expiryNoticeSent: noticeSent,
    });
    this.pending.set(connection.id, hookId);
  }

  async secrets(connection: StoredConnection): Promise<ConnectionSecrets> {
    const hookId = await this.hookIdOf(connection.id);
    if (hookId === undefined) return {};
    const prefix = this.settings.urlPrefix;
    const url = `${prefix.endsWith('/') ? prefix : `${prefix}/`}${hookId}`;
    const expiry = this.expiryOf(connection);
    return {
      shown: {
        url,
        hookId,
        ...(expiry !== undefined ? { timeRemainingMs: Math.max(0, expiry - this.now()) } : {}),
      },
      // Dimension (written for hookshot 1.x) reads the URL from config.url.
      config: { url },
    };
  }

  async moved(trx: Knex.Transaction, from: StoredConnection, to: StoredConnection): Promise<void> {
    const hookId = await moveWebhookHook(trx, from.id, to.id);
    if (hookId !== null) this.pending.set(to.id, hookId);
  }

  committed(connection: StoredConnection): void {
    const hookId = this.pending.get(connection.id);
    if (hookId === undefined) return;
    this.pending.delete(connection.id);
    this.deps.hooks.set(hookId, connection.id);
  }

  removed(connection: StoredConnection): void {
    this.pending.delete(connection.id);
    this.deps.hooks.removeConnection(connection.id);
  }

  /** The expiry instant of a stored connection, if it has one. */
  expiryOf(connection: StoredConnection): number | undefined {
    const value = connection.config.expirationDate;
    if (typeof value !== 'string') return undefined;
    const time = parseExpirationDate(value);
    return Number.isNaN(time) ? undefined : time;
  }

  private async hookIdOf(connectionId: string): Promise<string | undefined> {
    const known = this.deps.hooks.hookOf(connectionId) ?? this.pending.get(connectionId);
    if (known !== undefined) return known;
    return (await findWebhookHookOfConnection(this.deps.db, connectionId))?.hookId;
  }

  /** hookshot's checks of a webhook state, with its messages. */
  private validate(body: Record<string, unknown>): WebhookConfig {
    const settings = this.settings;
    const {
      name,
      transformationFunction,
      waitForComplete,
      expirationDate,
      includeHookBody,
      showUrlPreviews,
      priority,
      commandPrefix,
    } = body;
    if (name === undefined || name === null || name === '') throw badValue('Missing name');
    if (typeof name !== 'string' || name.length < 3 || name.length > 64) {
      throw badValue("'name' must be a string between 3-64 characters long");
    }
    const hasFunction = transformationFunction !== undefined && transformationFunction !== null;
    if (hasFunction) {
      if (!settings.allowJsTransformationFunctions) {
        throw new ConnectionError(
          'HS_DISABLED_FEATURE',
          'Transformation functions are not allowed',
        );
      }
      if (typeof transformationFunction !== 'string') {
        throw badValue('Transformation functions must be a string');
      }
    }
    if (waitForComplete !== undefined && typeof waitForComplete !== 'boolean') {
      throw badValue("'waitForComplete' must be a boolean");
    }
    for (const [key, value] of Object.entries({ includeHookBody, showUrlPreviews })) {
      if (value !== undefined && typeof value !== 'boolean') {
        throw badValue(`'${key}' must be a boolean`);
      }
    }
    if (expirationDate !== undefined && expirationDate !== null) {
      if (typeof expirationDate !== 'string' || expirationDate === '') {
        throw badValue("'expirationDate' must be a non-empty string");
      }
      if (Number.isNaN(parseExpirationDate(expirationDate))) {
        throw badValue("'expirationDate' must be a valid date");
      }
    }
    return {
      name,
      // As in hookshot, an empty function is no function.
      ...(hasFunction && transformationFunction !== '' ? { transformationFunction } : {}),
      ...(waitForComplete !== undefined ? { waitForComplete } : {}),
      ...(typeof expirationDate === 'string' ? { expirationDate } : {}),
      ...(typeof includeHookBody === 'boolean' ? { includeHookBody } : {}),
      ...(typeof showUrlPreviews === 'boolean' ? { showUrlPreviews } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(commandPrefix !== undefined ? { commandPrefix } : {}),
    };
  }

  /** Compiles the function (in a runner, as it will run); hookshot reports failures later. */
  private async checkCompiles(config: WebhookConfig): Promise<void> {
    if (config.transformationFunction === undefined) return;
    try {
      await this.deps.runner.compile(config.transformationFunction);
    } catch (err) {
      if (!(err instanceof TransformationError)) throw err;
      throw badValue(`Could not compile transformation function: ${err.message}`);
    }
  }

  /** The checks hookshot makes of a new hook's expiry only. */
  private checkNewExpiry(config: WebhookConfig): void {
    const settings = this.settings;
    if (config.expirationDate === undefined) {
      if (settings.requireExpiryTime) throw badValue('Expiration date must be set');
      return;
    }
    const remaining = parseExpirationDate(config.expirationDate) - this.now();
    const max = settings.maxExpiryTime !== null ? parseDuration(settings.maxExpiryTime) : null;
    if (max !== null && max !== undefined && remaining > max) {
      throw badValue('Expiration date cannot exceed the configured max expiry time');
    }
    if (remaining < HOUR_MS) {
      throw badValue('Expiration date must at least be a hour in the future');
    }
  }
}
