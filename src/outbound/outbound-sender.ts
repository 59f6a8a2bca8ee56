import { OUTBOUND_HOOK, type StoredConnection } from '../bridge/connection-types';
import type { Logger } from '../logging/logger';
import type { RoomEvent } from '../matrix/bot-client';
import { EgressRefusedError, guardedFetch } from '../net/egress';

/** Message types whose file is attached to the delivery as the `media` part. */
const MEDIA_MSGTYPES = new Set(['m.image', 'm.audio', 'm.file', 'm.video']);

const DEFAULT_TIMEOUT_MS = 30_000;

export interface OutboundSenderDeps {
  allowPrivate: boolean;
  timeoutMs?: number;
  logger: Logger;
  /** Fetches the bytes behind an mxc:// URL through the homeserver. */
  download(mxcUrl: string): Promise<{ data: Buffer; contentType: string }>;
  userAgent: string;
  /** The bridge's own user: its messages are never sent out, so hooks cannot loop. */
  botUserId: string;
}

/** What the receiver gets in the `event` part: the event in its Matrix client-server shape. */
function eventJson(event: RoomEvent): string {
  return JSON.stringify({
    room_id: event.roomId,
    event_id: event.eventId,
    sender: event.sender,
    type: event.type,
    content: event.content,
    origin_server_ts: event.originServerTs,
  });
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Sends room messages to the URLs of a room's outbound hooks, as hookshot does: the event as
 * multipart form data, with the file of a media message attached. A receiver's failure is
 * logged and never reaches the caller; the deliveries of one hook go out one after another, in
 * the order the events arrived.
 */
export class OutboundSender {
  /** The tail of each hook's delivery chain, by connection id. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Deliveries queued and not yet tried, over all hooks. */
  private pending = 0;
  /** One download per event, however many hooks of the room send it. */
  private readonly media = new WeakMap<RoomEvent, Promise<{ data: Buffer; contentType: string }>>();

  constructor(private readonly deps: OutboundSenderDeps) {}

  /**
   * Delivers one event to every outbound hook of its room. Only `m.room.message` events are
   * sent (no state, reactions or redactions), and none sent by the bridge's bot.
   */
  async handleRoomEvent(event: RoomEvent, connections: readonly StoredConnection[]): Promise<void> {
    if (event.type !== 'm.room.message' || event.stateKey !== undefined) return;
    if (event.sender === this.deps.botUserId || event.eventId === undefined) return;
    const hooks = connections.filter(
      (c) =>
        c.roomId === event.roomId &&
        c.eventType === OUTBOUND_HOOK.eventType &&
        c.config.disabled !== true,
    );
    await Promise.all(hooks.map((c) => this.deliver(c, event)));
  }

  /** Queues the delivery behind the hook's earlier ones; resolves once it has been tried. */
  deliver(connection: StoredConnection, event: RoomEvent): Promise<void> {
    const previous = this.queues.get(connection.id) ?? Promise.resolve();
    this.pending++;
    const next = previous.then(() => this.send(connection, event)).finally(() => this.pending--);
    this.queues.set(connection.id, next);
    void next.then(() => {
      // Drop the chain once idle so removed hooks leave nothing behind.
      if (this.queues.get(connection.id) === next) this.queues.delete(connection.id);
    });
    return next;
  }

  /**
   * Waits (at most `timeoutMs`) for the queued deliveries, as the server stops; answers how
   * many were left untried, and logs them, since the sync position has already passed them.
   */
  async drain(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.queues.values()]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    if (this.pending > 0) {
      this.deps.logger.warn(
        { deliveries: this.pending },
        'Stopping with outbound hook deliveries not yet made; those events are not sent',
      );
    }
    return this.pending;
  }

  private async send(connection: StoredConnection, event: RoomEvent): Promise<void> {
    const log = this.deps.logger.child({
      connectionId: connection.id,
      roomId: event.roomId,
      eventId: event.eventId,
    });
    try {
      const { url, method } = connection.config;
      const token = connection.secrets?.token;
      if (typeof url !== 'string' || typeof method !== 'string' || typeof token !== 'string') {
        log.warn('Outbound hook has no usable URL, method or token; event not sent');
        return;
      }
      const body = await this.formData(event, log);
      const res = await guardedFetch(
        url,
        {
          method,
          headers: {
            'X-Matrix-Hookshot-RoomId': event.roomId,
            'X-Matrix-Hookshot-EventId': event.eventId ?? '',
            'X-Matrix-Hookshot-Token': token,
            'User-Agent': this.deps.userAgent,
          },
          body,
        },
        {
          allowPrivate: this.deps.allowPrivate,
          timeoutMs: this.deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        },
      );
      // The answer's body is of no use; drop it so the connection can be reused.
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) {
        log.warn({ status: res.status }, 'Outbound hook receiver refused the event');
      } else {
        log.debug({ status: res.status }, 'Outbound hook delivered');
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const refused = err instanceof EgressRefusedError;
      log.warn(
        { status: null, reason },
        refused ? 'Outbound hook destination refused' : 'Outbound hook delivery failed',
      );
    }
  }

  private async formData(event: RoomEvent, log: Logger): Promise<FormData> {
    const form = new FormData();
    form.append(
      'event',
      new Blob([eventJson(event)], { type: 'application/json' }),
      'event_data.json',
    );
    const { msgtype, url } = event.content;
    if (typeof msgtype === 'string' && MEDIA_MSGTYPES.has(msgtype) && typeof url === 'string') {
      try {
        let pending = this.media.get(event);
        if (pending === undefined) {
          pending = this.deps.download(url);
          this.media.set(event, pending);
        }
        const media = await pending;
        const info = event.content.info;
        const mimetype =
          (info !== null && typeof info === 'object'
            ? stringField((info as Record<string, unknown>).mimetype)
            : undefined) ??
          stringField(media.contentType) ??
          'application/octet-stream';
        const filename =
          stringField(event.content.filename) ?? stringField(event.content.body) ?? 'file';
        form.append('media', new Blob([media.data], { type: mimetype }), filename);
      } catch (err) {
        // The receiver still learns of the message; only the file is missing.
        log.warn(
          { reason: err instanceof Error ? err.message : String(err) },
          'Could not download the media of an outbound hook event; sent without it',
        );
      }
    }
    return form;
  }
}
