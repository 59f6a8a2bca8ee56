import { OUTBOUND_HOOK } from '../bridge/connection-types';
import type {
  BridgeIntegration,
  IntegrationContext,
  IntegrationRuntime,
} from '../bridge/integration';
import type { WebhookSettings } from '../config/schema';
import { OutboundHookKind } from './outbound-hook-kind';
import { OutboundSender } from './outbound-sender';

/** How long a stop waits for queued outbound hook deliveries. */
const OUTBOUND_DRAIN_MS = 5_000;

/** Outbound hooks: room messages (not the bot's own) go to the room's hooks. */
export class OutboundRuntime implements IntegrationRuntime {
  private readonly sender: OutboundSender;

  constructor({ config, connections, bot, logger }: IntegrationContext) {
    connections.register(new OutboundHookKind({ config }));
    const sender = (this.sender = new OutboundSender({
      allowPrivate: config.allowPrivateDestinations,
      logger,
      download: (mxc) => bot.download(mxc),
      userAgent: 'Switchboard (outbound webhook)',
      botUserId: bot.userId,
    }));
    bot.onRoomEvent((event) => {
      const hooks = connections
        .inRoom(event.roomId)
        .filter((c) => c.eventType === OUTBOUND_HOOK.eventType);
      if (hooks.length > 0) void sender.handleRoomEvent(event, hooks);
    });
  }

  /** Deliveries still need the bot (media downloads); they get a few seconds. */
  async stop(): Promise<void> {
    await this.sender.drain(OUTBOUND_DRAIN_MS);
  }
}

/** Outbound hooks live in the webhooks section (hookshot's `generic` section holds both). */
export const outboundIntegration: BridgeIntegration<WebhookSettings, OutboundRuntime> = {
  name: 'outbound',
  settings: (config) => config.webhooks,
  create: (context) => new OutboundRuntime(context),
};
