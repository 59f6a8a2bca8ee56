import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A websocket client at the byte level, for sending what no well-behaved client library
 * would: unmasked or malformed frames, lying lengths, half-closed connections.
 */
export interface RawSocket {
  socket: Socket;
  /** The status line of the HTTP answer to the upgrade request. */
  status: string;
  /** Everything received after the HTTP answer. */
  received(): Buffer;
  /** Resolves when the server has closed the TCP connection. */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Writes, ignoring errors (the server may already have cut the connection). */
  write(bytes: Buffer): Promise<void>;
}

export async function rawUpgrade(
  port: number,
  path = '/_matrix/maubot/v1/logs',
  {
    halfClose = false,
    headers = {},
  }: { halfClose?: boolean; headers?: Record<string, string> } = {},
): Promise<RawSocket> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  // Half-open is allowed so that a test can half-close first; once the server ends, so do we.
  socket.on('end', () => socket.end());
  let buffer = Buffer.alloc(0);
  let closed = false;
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  socket.on('data', (chunk: Buffer) => (buffer = Buffer.concat([buffer, chunk])));
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  );
  socket.write(
    [
      `GET ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      '',
      '',
    ].join('\r\n'),
  );
  if (halfClose) socket.end();
  const deadline = Date.now() + 5000;
  while (buffer.indexOf('\r\n\r\n') === -1) {
    if (closed || Date.now() > deadline) throw new Error('no answer to the upgrade request');
    await new Promise((r) => setTimeout(r, 10));
  }
  const end = buffer.indexOf('\r\n\r\n') + 4;
  const status = buffer.subarray(0, buffer.indexOf('\r\n')).toString('latin1');
  const headerLength = end;
  return {
    socket,
    status,
    received: () => buffer.subarray(headerLength),
    closed: closedPromise,
    isClosed: () => closed,
    write: (bytes) =>
      new Promise((resolve) => {
        if (socket.destroyed || socket.writableEnded) return resolve();
        socket.write(bytes, () => resolve());
      }),
  };
}

/** One client frame; masked unless told otherwise, as RFC 6455 requires of clients. */
export function frame(
  opcode: number,
  payload: Buffer,
  { fin = true, mask = true, rsv = 0, length = BigInt(payload.length) } = {},
): Buffer {
  const head: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n)
    head.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** The complete frames the server sent (server frames are never masked). */
export function serverFrames(received: Buffer): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let offset = 0;
  while (offset + 2 <= received.length) {
    const opcode = received[offset]! & 0x0f;
    let length = received[offset + 1]! & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      length = received.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      length = Number(received.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > received.length) break;
    frames.push({ opcode, payload: received.subarray(start, start + length) });
    offset = start + length;
  }
  return frames;
}

/** The status code of the first close frame the server sent, if any. */
export function closeCode(received: Buffer): number | undefined {
  const close = serverFrames(received).find((f) => f.opcode === 0x8);
  if (!close) return undefined;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

/** The text messages the server sent. */
export function textMessages(received: Buffer): string[] {
  return serverFrames(received)
    .filter((f) => f.opcode === 0x1)
    .map((f) => f.payload.toString('utf8'));
}
