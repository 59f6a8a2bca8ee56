import type { NextFunction, Request, Response, Router } from 'express';
import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { ConnectionService } from '../connections/connection-service';
import { WEBHOOK } from '../connections/connection-types';
import type { RoomMessenger } from '../connections/room-messenger';
import { namedLogger, type Logger } from '../logging/logger';
import { ExpiryNotices } from './expiry-notices';
import { TransformationRunner } from './transformation';
import { WebhookHooks } from './webhook-hooks';
import { webhookIngressRouter } from './webhook-ingress';
import { WebhookKind } from './webhook-kind';

export interface WebhookBridgeDeps {
  config: Config;
  db: Knex;
  logger: Logger;
  connections: ConnectionService;
  messenger: RoomMessenger;
}

/**
 * Inbound webhooks' part of the bridge: the kind, the hook index, the ingress routes and the
 * expiry notices. The sandbox's WASM module loads asynchronously, so they are made by init().
 */
export class WebhookBridge {
  readonly hooks = new WebhookHooks();
  private router: Router | undefined;
  private expiry: ExpiryNotices | undefined;
  private runner: TransformationRunner | undefined;

  constructor(private readonly deps: WebhookBridgeDeps) {}

  /** The transformation runners, once init() is done (for diagnostics). */
  get transformations(): TransformationRunner | undefined {
    return this.runner;
  }

  /** For the webhooks listener: /webhook/:hookId once init() is done. */
  readonly routes = (req: Request, res: Response, next: NextFunction): void => {
    if (this.router) this.router(req, res, next);
    else next();
  };

  /** Registers the kind and loads the hook index; before the connections are loaded. */
  async init(): Promise<void> {
    const { config, db, connections, messenger } = this.deps;
    const settings = config.webhooks!;
    const logger = namedLogger(this.deps.logger, 'bridge.webhooks');
    const runner = await TransformationRunner.create(
      {
        timeoutMs: settings.transformationTimeoutMs,
        memoryMb: settings.transformationMemoryMb,
        maxResultBytes: settings.transformationMaxResultBytes,
        runners: settings.transformationRunners,
        queueSize: settings.transformationQueueSize,
        queuePerHook: settings.transformationQueuePerHook,
      },
      logger,
    );
    this.runner = runner;
    connections.register(new WebhookKind({ config, db, runner, hooks: this.hooks }));
    await this.hooks.load(db);
    this.router = webhookIngressRouter({
      config,
      logger,
      hooks: this.hooks,
      connection: (id) => connections.get(id),
      messenger,
      runner,
    });
    if (settings.sendExpiryNotice) {
      this.expiry = new ExpiryNotices({
        db,
        messenger,
        connections: () => connections.ofType(WEBHOOK.eventType),
        hooks: this.hooks,
        logger,
      });
    }
  }

  start(): void {
    this.expiry?.start();
  }

  stop(): void {
    this.expiry?.stop();
    void this.runner?.close();
  }
}

/** null when webhooks are not configured or switched off. */
export function createWebhookBridge(deps: WebhookBridgeDeps): WebhookBridge | null {
  return deps.config.webhooks?.enabled === true ? new WebhookBridge(deps) : null;
}
