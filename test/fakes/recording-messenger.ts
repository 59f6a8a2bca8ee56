import type { MessageContent, RoomMessenger } from '../../src/bridge/room-messenger';

export interface Sent {
  roomId: string;
  content: MessageContent;
}

/** A RoomMessenger that keeps what it is given; `fail` makes every send fail. */
export class RecordingMessenger implements RoomMessenger {
  readonly sent: Sent[] = [];
  fail = false;
  /** What `backlog` answers (a real queue's length). */
  backlog = 0;

  send(roomId: string, content: MessageContent): Promise<string> {
    if (this.fail) return Promise.reject(new Error('homeserver down'));
    this.sent.push({ roomId, content });
    return Promise.resolve(`$event${this.sent.length}`);
  }

  post(roomId: string, content: MessageContent, done?: (err: Error | null) => void): void {
    this.send(roomId, content).then(
      () => done?.(null),
      (err: Error) => done?.(err),
    );
  }

  bodies(roomId: string): unknown[] {
    return this.sent.filter((s) => s.roomId === roomId).map((s) => s.content.body);
  }
}
