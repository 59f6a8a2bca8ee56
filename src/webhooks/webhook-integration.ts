import { WEBHOOK } from '../bridge/connection-types';
import type {
  BridgeIntegration,
  IntegrationContext,
  IntegrationRuntime,
} from '../bridge/integration';
import type { WebhookSettings } from '../config/schema';
import { ExpiryNotices } from './expiry-notices';
import { TransformationRunner } from './transformation';
import { WebhookDelivery } from './webhook-delivery';
import { WebhookHooks } from './webhook-hooks';
import { WebhookKind } from './webhook-kind';

/**
 * Inbound webhooks' part of the bridge: the kind, the hook index, the delivery service and the
 * expiry notices. The sandbox's WASM module loads asynchronously, so they are made by init().
 */
export class WebhookRuntime implements IntegrationRuntime {
  readonly hooks = new WebhookHooks();
  private expiry: ExpiryNotices | undefined;
  private runner: TransformationRunner | undefined;
  private service: WebhookDelivery | undefined;

  constructor(
    private readonly context: IntegrationContext,
    private readonly settings: WebhookSettings,
  ) {}

  /** The transformation runners, once init() is done (for diagnostics). */
  get transformations(): TransformationRunner | undefined {
    return this.runner;
  }

  /** Posts to hooks, once init() is done. */
  get delivery(): WebhookDelivery | undefined {
    return this.service;
  }

  /** Registers the kind and loads the hook index; before the connections are loaded. */
  async init(): Promise<void> {
    const { config, db, connections, bot, logger } = this.context;
    const { settings } = this;
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
    this.service = new WebhookDelivery({
      settings,
      logger,
      hooks: this.hooks,
      connection: (id) => connections.get(id),
      messenger: bot,
      runner,
    });
    if (settings.sendExpiryNotice) {
      this.expiry = new ExpiryNotices({
        db,
        messenger: bot,
        connections: () => connections.ofType(WEBHOOK.eventType),
        hooks: this.hooks,
        logger,
      });
    }
  }

  start(): void {
    this.expiry?.start();
  }

  stop(): Promise<void> {
    this.expiry?.stop();
    void this.runner?.close();
    return Promise.resolve();
  }
}

export const webhookIntegration: BridgeIntegration<WebhookSettings, WebhookRuntime> = {
  name: 'webhooks',
  settings: (config) => (config.webhooks?.enabled === true ? config.webhooks : null),
  create: (context, settings) => new WebhookRuntime(context, settings),
};
