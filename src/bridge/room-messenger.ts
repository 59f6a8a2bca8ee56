/** Message content as sent to a room (m.room.message unless `type` says otherwise). */
export type MessageContent = Record<string, unknown>;

/**
 * Posts into rooms as the provisioning bot. Messages to one room arrive in the order they were
 * handed over; a homeserver's 429 and 5xx answers are retried with backoff.
 */
export interface RoomMessenger {
  /** Resolves with the event id once the homeserver stored the event. */
  send(roomId: string, content: MessageContent, type?: string): Promise<string>;
  /** Queues an m.room.message without waiting for it; `done` hears how it ended. */
  post(roomId: string, content: MessageContent, done?: (err: Error | null) => void): void;
  /** Messages queued and not yet sent, over all rooms. */
  readonly backlog: number;
}

/** An m.notice with markdown-rendered HTML, the shape every bridge notice has. */
export function notice(
  body: string,
  html?: string,
  extra: Record<string, unknown> = {},
): MessageContent {
  return {
    msgtype: 'm.notice',
    body,
    ...(html !== undefined ? { format: 'org.matrix.custom.html', formatted_body: html } : {}),
    ...extra,
  };
}
