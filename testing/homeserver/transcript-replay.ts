import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { TestHomeserver } from './test-homeserver';

/**
 * Replays a recorded Synapse transcript (synapse-transcripts/*.jsonl) against the test
 * homeserver and normalises its answers as the recorder normalised Synapse's, so the two can
 * be compared. The recorder's placeholders (`<TOKEN:alice>`, `!room1:localhost`, `$event3`,
 * `<BATCH:4>`, ...) are learnt from the test homeserver's answers as they come.
 */

export interface Exchange {
  step: string;
  actor: string;
  request: {
    method: string;
    path: string;
    query: Record<string, string>;
    body: unknown;
    auth: string | null;
    headers?: Record<string, string>;
  };
  response: { status: number; body: unknown; headers?: Record<string, string> };
  note?: string;
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

type Json = Record<string, unknown>;

const TRANSCRIPTS = join(__dirname, 'synapse-transcripts');
/** Synapse's `public_baseurl` when recording. */
const RECORDED_BASE_URL = 'http://127.0.0.1:8008/';
const PLACEHOLDER = /<(?:TOKEN|DEVICE|BATCH|FILTER|MEDIA|NONCE):[^>]+>|!room\d+:localhost/g;
const TOKEN_KEYS = new Set(['next_batch', 'prev_batch', 'start', 'end']);
const TIME_KEYS = new Set(['origin_server_ts', 'age', 'last_active_ago']);

export function readTranscript(name: string): Exchange[] {
  return readFileSync(join(TRANSCRIPTS, `${name}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Exchange);
}

/** Users whose token a transcript uses before any answer hands it out: they exist beforehand. */
export function usersBefore(exchanges: Exchange[]): string[] {
  const issued = new Set<string>();
  const before = new Set<string>();
  for (const { request, response } of exchanges) {
    const name = /^<TOKEN:([a-z]+)>$/.exec(request.auth ?? '')?.[1];
    if (name && !issued.has(name)) before.add(name);
    for (const m of JSON.stringify(response.body ?? null).matchAll(/<TOKEN:([a-z]+)>/g)) {
      issued.add(m[1]!);
    }
  }
  return [...before];
}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function mapDeep(value: unknown, fn: (s: string, key?: string) => unknown, key?: string): unknown {
  if (typeof value === 'string') return fn(value, key);
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, fn));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [fn(k) as string, mapDeep(v, fn, k)]),
    );
  }
  return value;
}

function binarySummary(data: Buffer): Json {
  return {
    binary: true,
    length: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    ...(data.length <= 2048 ? { base64: data.toString('base64') } : {}),
  };
}

const byTypeAndKey = (a: unknown, b: unknown): number => {
  const key = (e: unknown) => (isObject(e) ? `${String(e.type)}\u0000${String(e.state_key)}` : '');
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
};

export class TranscriptReplay {
  /** placeholder → the test homeserver's value */
  private readonly values = new Map<string, string>();
  private readonly rooms: string[] = [];

  constructor(
    private readonly hs: TestHomeserver,
    private readonly sharedSecret: string,
  ) {}

  /** A user registered before the transcript starts (`<name>-password`). */
  addUser(name: string): void {
    const user = this.hs.registerUser(name, `${name}-password`);
    this.values.set(`<TOKEN:${name}>`, user.accessToken);
    this.values.set(`<DEVICE:${name}>`, user.deviceId);
  }

  /** Sends the recorded request, with the placeholders filled in. */
  async send(exchange: Exchange): Promise<Answer> {
    const { request } = exchange;
    const path = request.path
      .split('/')
      .map((segment) => encodeURIComponent(this.fill(segment)))
      .join('/');
    const query = new URLSearchParams(
      Object.entries(request.query).map(([k, v]): [string, string] => [k, this.fill(v)]),
    ).toString();
    const headers: Record<string, string> = { ...request.headers };
    if (request.auth !== null) headers.Authorization = `Bearer ${this.fill(request.auth)}`;
    let body: string | Buffer | undefined;
    if (typeof request.body === 'string') {
      body = request.body;
    } else if (isObject(request.body) && request.body.binary === true) {
      body = Buffer.from(request.body.base64 as string, 'base64');
    } else if (request.body !== null) {
      body = JSON.stringify(this.requestBody(request.body));
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(`${this.hs.url}${path}${query ? `?${query}` : ''}`, {
      method: request.method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const data = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const kept: Record<string, string> = {};
    for (const name of ['content-type', 'content-length', 'content-disposition']) {
      const value = res.headers.get(name);
      if (value !== null) kept[name] = value;
    }
    return {
      status: res.status,
      body: type.startsWith('application/json')
        ? JSON.parse(data.toString('utf8'))
        : binarySummary(data),
      headers: kept,
    };
  }

  /** Learns the placeholders the recorded answer shows from what the test homeserver said. */
  learn(recorded: unknown, answer: unknown): void {
    if (typeof recorded === 'string') {
      if (typeof answer !== 'string') return;
      const names = recorded.match(PLACEHOLDER);
      if (!names) return;
      const pattern = recorded
        .split(PLACEHOLDER)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('(.+?)');
      const m = new RegExp(`^${pattern}$`).exec(answer);
      names.forEach((name, i) => {
        const value = m?.[i + 1];
        if (value === undefined || this.values.has(name)) return;
        this.values.set(name, value);
        if (name.startsWith('!room')) this.rooms.push(value);
      });
    } else if (Array.isArray(recorded) && Array.isArray(answer)) {
      recorded.forEach((r, i) => this.learn(r, answer[i]));
    } else if (isObject(recorded) && isObject(answer)) {
      for (const [key, r] of Object.entries(recorded)) this.learn(r, answer[this.fill(key)]);
    }
  }

  /**
   * The test homeserver's answer as the recorder would have written it: ids and tokens by
   * their labels, times 0, unordered sync state sorted.
   */
  normalise(answer: Answer, request: Exchange['request']): Answer {
    const replacements = this.replacements();
    const isSync = request.path.endsWith('/sync');
    const body = mapDeep(answer.body, (s, key) => {
      if (key === 'filter_id') return this.labelOf(s) ?? s;
      let out = s.split(`${this.hs.url}/`).join(RECORDED_BASE_URL);
      for (const [value, label] of replacements) out = out.split(value).join(label);
      return out;
    });
    return { ...answer, body: comparable(body, isSync, request.path) };
  }

  /** The recorded answer in the same comparable form. */
  static comparableRecord(exchange: Exchange): Answer {
    const { response, request } = exchange;
    return {
      status: response.status,
      body: comparable(response.body, request.path.endsWith('/sync'), request.path),
      headers: response.headers ?? {},
    };
  }

  private requestBody(body: unknown): unknown {
    const filled = mapDeep(body, (s) =>
      /^<\d+ x "(.)">$/.test(s)
        ? s.charAt(s.length - 2).repeat(Number(/\d+/.exec(s)![0]))
        : this.fill(s),
    );
    // The recorder computed the MAC of shared-secret registrations; so do we.
    if (isObject(filled) && filled.mac === '<MAC>') {
      const mac = createHmac('sha1', this.sharedSecret);
      mac.update(
        `${String(filled.nonce)}\0${String(filled.username)}\0${String(filled.password)}\0`,
      );
      mac.update(filled.admin === true ? 'admin' : 'notadmin');
      filled.mac = mac.digest('hex');
    }
    return filled;
  }

  private fill(text: string): string {
    this.learnEvents();
    return text.replace(
      /<[A-Z]+:[^>]+>|!room\d+:localhost|\$event\d+/g,
      (name) => this.values.get(name) ?? name,
    );
  }

  private labelOf(value: string): string | undefined {
    for (const [label, v] of this.values) if (v === value) return label;
    return undefined;
  }

  /** Event labels follow each room's order of events, as the recorder's did. */
  private learnEvents(): void {
    if (this.rooms.length > 1) throw new Error('event labels are only known for one room');
    const roomId = this.rooms[0];
    if (!roomId) return;
    this.hs.roomEvents(roomId)!.forEach((e, i) => this.values.set(`$event${i + 1}`, e.event_id));
  }

  /** value → label, longest values first (filter ids are only labelled where they stand). */
  private replacements(): [string, string][] {
    this.learnEvents();
    return [...this.values]
      .filter(([label]) => !label.startsWith('<FILTER:') && !label.startsWith('<BATCH:'))
      .map(([label, value]): [string, string] => [value, label])
      .sort((a, b) => b[0].length - a[0].length);
  }
}

/**
 * What the comparison ignores: the values of stream tokens (the recorder labelled each one
 * anew), times, the order of unordered arrays, and the sync keys the test homeserver does not
 * serve (presence, device lists: README.md says why).
 */
function comparable(body: unknown, isSync: boolean, path: string): unknown {
  let out = mapDeep(body, (s, key) =>
    key !== undefined && TOKEN_KEYS.has(key) ? '<BATCH>' : s.replace(/<BATCH:\d+>/g, '<BATCH>'),
  );
  out = zeroTimes(out);
  if (isSync && isObject(out)) {
    const rest: Json = { ...out };
    delete rest.presence;
    delete rest.device_lists;
    const rooms = rest.rooms;
    if (isObject(rooms)) {
      for (const section of ['join', 'leave']) {
        const entries = rooms[section];
        if (!isObject(entries)) continue;
        for (const room of Object.values(entries)) {
          if (isObject(room) && isObject(room.state) && Array.isArray(room.state.events)) {
            room.state.events = [...room.state.events].sort(byTypeAndKey);
          }
        }
      }
    }
    return rest;
  }
  // /state and /members list state in no particular order.
  if (/\/state$/.test(path) && Array.isArray(out)) return [...out].sort(byTypeAndKey);
  if (/\/members$/.test(path) && isObject(out) && Array.isArray(out.chunk)) {
    return { ...out, chunk: [...out.chunk].sort(byTypeAndKey) };
  }
  return out;
}

function zeroTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(zeroTimes);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      TIME_KEYS.has(k) && typeof v === 'number' ? 0 : zeroTimes(v),
    ]),
  );
}

export const sameAnswer = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);
