import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendSlots } from './send-slots';

/**
 * An in-process Matrix homeserver for tests: the Client-Server API subset Switchboard's Matrix
 * adapters use, over real HTTP on 127.0.0.1. It is strict like Synapse where a lenient fake would
 * hide bugs (auth, membership, power levels), and keeps its state across stop()/restart().
 */

export interface TestHomeserverOptions {
  serverName?: string;
  /** Enables the Synapse admin shared-secret registration API. */
  registrationSharedSecret?: string;
  /** Offers single sign-on; whoever completes it is logged in as this user (localpart). */
  ssoUser?: string;
  /** Each message send takes this long once it has a slot (default 0). */
  sendLatencyMs?: number;
  /** Message sends handled at once; more wait for a slot (default: no limit). See SendSlots. */
  sendCapacity?: number;
  /**
   * Serves authenticated media (`/_matrix/client/v1/media`, Synapse 1.111 and later). Off by
   * default: Synapse 1.67 answers 400 M_UNRECOGNIZED there.
   */
  authenticatedMedia?: boolean;
  /** The event size limit (default Synapse's 65536 bytes); lower models a stricter server. */
  maxEventBytes?: number;
}

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export interface ClientEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  room_id: string;
  unsigned: Record<string, unknown>;
}

/** Events in /sync omit room_id (ClientEventWithoutRoomID). */
export type SyncEvent = Omit<ClientEvent, 'room_id'>;

export interface LoggedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query parameters, without `access_token`. */
  query: Record<string, string>;
  /** Whose token authenticated it, when it needed one and it was valid. */
  userId?: string;
}

type Json = Record<string, unknown>;

interface StoredEvent {
  pos: number;
  event: ClientEvent;
  /** Set for events sent with a transaction id, so only that device sees `transaction_id`. */
  txn?: { device: string; txnId: string };
}

interface Room {
  roomId: string;
  events: StoredEvent[];
  state: Map<string, StoredEvent>;
}

interface User {
  password?: string;
  admin: boolean;
  displayname?: string;
  avatar_url?: string;
}

interface Session {
  userId: string;
  deviceId: string;
}

interface Media {
  contentType: string;
  filename?: string;
  data: Buffer;
}

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  session: Session;
  body: () => Promise<Json>;
  rawBody: () => Promise<Buffer>;
}

interface Route {
  method: string;
  pattern: RegExp;
  auth: 'required' | 'none';
  handler: (r: Request) => Promise<unknown>;
}

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }
}

const CS = '/_matrix/client/(?:v3|r0)';
const MAX_BODY = 50 * 1024 * 1024;
/** Synapse refuses an event whose federation form (canonical JSON) is larger. */
const MAX_PDU_BYTES = 65_536;
const DEFAULT_TIMELINE_LIMIT = 10;
// Stripped state shown to invitees, as Synapse's room_prejoin_state default.
const INVITE_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
];
const PL_TOP_LEVEL = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'kick',
  'redact',
  'invite',
];
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

const stateKeyOf = (type: string, stateKey: string) => `${type}\u0000${stateKey}`;
const randomId = (bytes = 12) => randomBytes(bytes).toString('base64url');
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class TestHomeserver {
  readonly serverName: string;
  /** Every request received, in order, including rate-limited and failed ones. */
  readonly requests: LoggedRequest[] = [];

  private server: Server | undefined;
  private port = 0;
  private closed = false;
  private readonly sharedSecret: string | undefined;
  private readonly ssoUser: string | undefined;
  private readonly sendSlots: SendSlots | undefined;
  private readonly authenticatedMedia: boolean;
  private readonly maxEventBytes: number;
  /** Single-use `m.login.token` tokens → user ID. */
  private readonly loginTokens = new Map<string, string>();
  private readonly routes: Route[] = [];

  private readonly users = new Map<string, User>();
  private readonly sessions = new Map<string, Session>();
  private readonly nonces = new Set<string>();
  private readonly rooms = new Map<string, Room>();
  private readonly aliases = new Map<string, string>();
  private readonly txns = new Map<string, string>();
  private readonly filters = new Map<string, Json[]>();
  private readonly media = new Map<string, Media>();
  private readonly waiters = new Set<() => void>();
  private readonly eventListeners = new Set<(event: ClientEvent) => void>();
  /** Each user's presence as last set by a /sync `set_presence` (absent means online). */
  private readonly presence = new Map<string, string>();
  private stream = 0;
  private rateLimited = 0;

  private constructor(options: TestHomeserverOptions) {
    this.serverName = options.serverName ?? 'test.local';
    this.sharedSecret = options.registrationSharedSecret;
    this.ssoUser = options.ssoUser;
    this.authenticatedMedia = options.authenticatedMedia === true;
    this.maxEventBytes = options.maxEventBytes ?? MAX_PDU_BYTES;
    if (options.sendCapacity !== undefined || options.sendLatencyMs !== undefined) {
      this.sendSlots = new SendSlots(options.sendCapacity ?? Infinity, options.sendLatencyMs ?? 0);
    }
    this.defineRoutes();
  }

  static async start(options: TestHomeserverOptions = {}): Promise<TestHomeserver> {
    const hs = new TestHomeserver(options);
    await hs.listen();
    return hs;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234` (stays the same across restart()). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening and drops open connections (ending long-polls); all state is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    this.wake();
    await closed;
  }

  /** Listens again on the same port, with the same users, tokens, rooms and media. */
  async restart(): Promise<void> {
    if (this.closed) throw new Error('TestHomeserver is closed');
    await this.stop();
    await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** Creates a user and a logged-in device directly, without HTTP. */
  registerUser(localpart: string, password?: string): RegisteredUser {
    const userId = this.createUser(localpart, password, false);
    return { userId, ...this.createSession(userId) };
  }

  /** The next `n` requests answer 429 M_LIMIT_EXCEEDED. */
  rateLimitNext(n: number): void {
    this.rateLimited = n;
  }

  userProfile(userId: string): { displayname?: string; avatar_url?: string } | undefined {
    const user = this.users.get(userId);
    if (!user) return undefined;
    return {
      ...(user.displayname !== undefined ? { displayname: user.displayname } : {}),
      ...(user.avatar_url !== undefined ? { avatar_url: user.avatar_url } : {}),
    };
  }

  /** Calls `listener` with every event as it is stored; returns the unsubscribe function. */
  onEvent(listener: (event: ClientEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** The presence a user's last /sync set, if any. */
  presenceOf(userId: string): string | undefined {
    return this.presence.get(userId);
  }

  /** Every event of a room in order, or undefined if the room does not exist. */
  roomEvents(roomId: string): ClientEvent[] | undefined {
    return this.rooms.get(roomId)?.events.map((s) => s.event);
  }

  /** Current state events of a room, or undefined if the room does not exist. */
  roomState(roomId: string): ClientEvent[] | undefined {
    const room = this.rooms.get(roomId);
    return room && [...room.state.values()].map((s) => s.event);
  }

  // ---- HTTP plumbing ----

  private async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const query = Object.fromEntries(url.searchParams);
    delete query.access_token;
    const logged: LoggedRequest = { method, path: url.pathname, query };
    this.requests.push(logged);
    res.setHeader('Access-Control-Allow-Origin', '*');
    try {
      if (method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        return sendJson(res, 200, {});
      }
      if (this.rateLimited > 0) {
        this.rateLimited--;
        res.setHeader('Retry-After', '1');
        throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too Many Requests', {
          retry_after_ms: 1000,
        });
      }
      let pathMatched = false;
      for (const route of this.routes) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
        const params = m.slice(1).map((p) => decodeURIComponent(p ?? ''));
        const session = route.auth === 'required' ? this.authenticate(req, url) : undefined;
        if (session) logged.userId = session.userId;
        let raw: Promise<Buffer> | undefined;
        const rawBody = () => (raw ??= readBody(req));
        const result = await route.handler({
          req,
          res,
          params,
          query: url.searchParams,
          session: session ?? { userId: '', deviceId: '' },
          rawBody,
          body: async () => parseJsonObject(await rawBody()),
        });
        if (result !== undefined) sendJson(res, 200, result);
        return;
      }
      if (pathMatched) throw new MatrixError(405, 'M_UNRECOGNIZED', 'Unrecognized request');
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    } catch (err) {
      if (err instanceof MatrixError) {
        sendJson(res, err.status, { errcode: err.errcode, error: err.message, ...err.extra });
      } else {
        sendJson(res, 500, { errcode: 'M_UNKNOWN', error: String(err) });
      }
    }
  }

  private authenticate(req: IncomingMessage, url: URL): Session {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ')
      ? header.slice('Bearer '.length)
      : url.searchParams.get('access_token');
    if (!token) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    const session = this.sessions.get(token);
    if (!session) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Invalid access token passed.', {
        soft_logout: false,
      });
    }
    return session;
  }

  private route(
    method: string,
    pattern: string,
    handler: (r: Request) => Promise<unknown>,
    auth: 'required' | 'none' = 'required',
  ): void {
    this.routes.push({ method, pattern: new RegExp(`^${pattern}$`), auth, handler });
  }

  // ---- Endpoints ----

  private defineRoutes(): void {
    this.route(
      'GET',
      '/_matrix/client/versions',
      () =>
        Promise.resolve({
          versions: Array.from({ length: 11 }, (_, i) => `v1.${i + 1}`),
          unstable_features: {},
        }),
      'none',
    );

    this.route('GET', '/_synapse/admin/v1/register', () => this.getNonce(), 'none');
    this.route('POST', '/_synapse/admin/v1/register', (r) => this.sharedSecretRegister(r), 'none');

    this.route(
      'GET',
      `${CS}/login`,
      () =>
        Promise.resolve({
          flows: [
            { type: 'm.login.password' },
            ...(this.ssoUser ? [{ type: 'm.login.sso' }, { type: 'm.login.token' }] : []),
          ],
        }),
      'none',
    );
    // The browser side of SSO, already "completed": straight back with a login token.
    this.route('GET', `${CS}/login/sso/redirect`, (r) => this.ssoRedirect(r), 'none');
    this.route('POST', `${CS}/login`, (r) => this.login(r), 'none');
    this.route('GET', `${CS}/account/whoami`, ({ session }) =>
      Promise.resolve({ user_id: session.userId, device_id: session.deviceId, is_guest: false }),
    );
    // Logging out also ends the device's pending long-polls (they answer M_UNKNOWN_TOKEN).
    this.route('POST', `${CS}/logout`, ({ session }) => {
      for (const [token, s] of this.sessions) if (s === session) this.sessions.delete(token);
      this.wake();
      return Promise.resolve({});
    });
    this.route('POST', `${CS}/logout/all`, ({ session }) => {
      for (const [token, s] of this.sessions) {
        if (s.userId === session.userId) this.sessions.delete(token);
      }
      this.wake();
      return Promise.resolve({});
    });
    this.route('GET', `${CS}/capabilities`, () =>
      Promise.resolve({
        capabilities: {
          'm.change_password': { enabled: false },
          'm.room_versions': { default: '10', available: { '10': 'stable' } },
        },
      }),
    );

    this.route('POST', `${CS}/createRoom`, (r) => this.createRoom(r));
    this.route('POST', `${CS}/rooms/([^/]+)/invite`, (r) => this.invite(r));
    this.route('POST', `${CS}/rooms/([^/]+)/join`, (r) => this.join(r));
    this.route('POST', `${CS}/join/([^/]+)`, (r) => this.join(r));
    this.route('POST', `${CS}/rooms/([^/]+)/leave`, (r) => this.leave(r));
    this.route('GET', `${CS}/joined_rooms`, ({ session }) =>
      Promise.resolve({
        joined_rooms: [...this.rooms.values()]
          .filter((room) => membershipOf(room, session.userId) === 'join')
          .map((room) => room.roomId),
      }),
    );
    this.route('GET', `${CS}/rooms/([^/]+)/state`, (r) => this.getAllState(r));
    this.route('GET', `${CS}/rooms/([^/]+)/messages`, (r) => this.messages(r));
    this.route('GET', `${CS}/rooms/([^/]+)/state/([^/]+)(?:/([^/]*))?`, (r) => this.getState(r));
    this.route('PUT', `${CS}/rooms/([^/]+)/state/([^/]+)(?:/([^/]*))?`, (r) => this.putState(r));
    this.route('PUT', `${CS}/rooms/([^/]+)/send/([^/]+)/([^/]+)`, (r) =>
      this.sendSlots ? this.sendSlots.run(() => this.send(r)) : this.send(r),
    );

    this.route('GET', `${CS}/profile/([^/]+)`, (r) => this.getProfile(r), 'none');
    for (const field of ['displayname', 'avatar_url'] as const) {
      this.route(
        'GET',
        `${CS}/profile/([^/]+)/${field}`,
        async (r) => pick(await this.getProfile(r), field),
        'none',
      );
      this.route('PUT', `${CS}/profile/([^/]+)/${field}`, (r) => this.putProfile(r, field));
    }

    this.route('POST', `${CS}/user/([^/]+)/filter`, (r) => this.createFilter(r));
    this.route('GET', `${CS}/user/([^/]+)/filter/([^/]+)`, (r) => this.getFilter(r));

    this.route('GET', `${CS}/sync`, (r) => this.sync(r));
    // Clients fetch push rules before their first sync; an account starts with empty rule sets.
    this.route('GET', `${CS}/pushrules/?`, () =>
      Promise.resolve({
        global: { override: [], content: [], room: [], sender: [], underride: [] },
      }),
    );
    this.route('GET', `${CS}/presence/([^/]+)/status`, (r) => {
      const presence = this.presence.get(r.params[0]!);
      if (!presence) throw new MatrixError(404, 'M_NOT_FOUND', 'Presence not found');
      return Promise.resolve({ presence });
    });

    this.route('POST', '/_matrix/media/(?:v3|r0)/upload', (r) => this.upload(r));
    const download = '/download/([^/]+)/([^/]+)(?:/[^/]*)?';
    this.route('GET', `/_matrix/media/(?:v3|r0)${download}`, (r) => this.download(r), 'none');
    const mediaConfig = () => Promise.resolve({ 'm.upload.size': MAX_BODY });
    this.route('GET', '/_matrix/media/(?:v3|r0)/config', mediaConfig);
    if (this.authenticatedMedia) {
      this.route('GET', `/_matrix/client/v1/media${download}`, (r) => this.download(r));
      this.route('GET', '/_matrix/client/v1/media/config', mediaConfig);
    } else {
      this.route('GET', '/_matrix/client/v1/media/.*', () => {
        throw new MatrixError(400, 'M_UNRECOGNIZED', 'Unrecognized request');
      });
    }
  }

  private getNonce(): Promise<Json> {
    this.requireSharedSecret();
    const nonce = randomBytes(16).toString('hex');
    this.nonces.add(nonce);
    return Promise.resolve({ nonce });
  }

  private requireSharedSecret(): string {
    if (!this.sharedSecret) {
      throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    }
    return this.sharedSecret;
  }

  private async sharedSecretRegister(r: Request): Promise<Json> {
    const secret = this.requireSharedSecret();
    const body = await r.body();
    const nonce = requireString(body, 'nonce');
    if (!this.nonces.has(nonce)) throw new MatrixError(400, 'M_UNKNOWN', 'unrecognised nonce');
    // As in Synapse, the nonce is spent even when the rest of the request is bad.
    this.nonces.delete(nonce);
    const username = requireString(body, 'username');
    const password = requireString(body, 'password');
    const mac = requireString(body, 'mac');
    const admin = body.admin === true;
    const userType = body.user_type;
    if (userType !== undefined && userType !== null && typeof userType !== 'string') {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user type');
    }
    const hmac = createHmac('sha1', secret);
    hmac.update(`${nonce}\0${username}\0${password}\0${admin ? 'admin' : 'notadmin'}`);
    if (typeof userType === 'string') hmac.update(`\0${userType}`);
    const want = Buffer.from(hmac.digest('hex'));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'HMAC incorrect');
    }
    const userId = this.createUser(username, password, admin);
    return this.credentials(userId, this.createSession(userId));
  }

  /** What registration and login answer. */
  private credentials(userId: string, session: { accessToken: string; deviceId: string }): Json {
    return {
      user_id: userId,
      access_token: session.accessToken,
      device_id: session.deviceId,
      home_server: this.serverName,
    };
  }

  private ssoRedirect(r: Request): Promise<undefined> {
    if (!this.ssoUser) throw new MatrixError(404, 'M_UNRECOGNIZED', 'SSO is not enabled');
    const redirectUrl = r.query.get('redirectUrl');
    if (!redirectUrl) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing redirectUrl');
    const userId = `@${this.ssoUser}:${this.serverName}`;
    if (!this.users.has(userId)) this.createUser(this.ssoUser, undefined, false);
    const token = randomId();
    this.loginTokens.set(token, userId);
    const target = new URL(redirectUrl);
    target.searchParams.set('loginToken', token);
    r.res.writeHead(302, { Location: target.toString() }).end();
    return Promise.resolve(undefined);
  }

  private async login(r: Request): Promise<Json> {
    const body = await r.body();
    if (body.type === 'm.login.token' && this.ssoUser) {
      const userId = typeof body.token === 'string' ? this.loginTokens.get(body.token) : undefined;
      if (!userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid login token');
      this.loginTokens.delete(body.token as string);
      const deviceId = typeof body.device_id === 'string' ? body.device_id : undefined;
      return this.loginAnswer(userId, this.createSession(userId, deviceId));
    }
    if (body.type !== 'm.login.password') {
      throw new MatrixError(400, 'M_UNKNOWN', 'Unknown login type');
    }
    const identifier = isObject(body.identifier) ? body.identifier : undefined;
    const user = identifier?.type === 'm.id.user' ? identifier.user : body.user;
    const password = body.password;
    if (typeof user !== 'string' || typeof password !== 'string') {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Missing user or password');
    }
    const userId = user.startsWith('@') ? user : `@${user.toLowerCase()}:${this.serverName}`;
    const account = this.users.get(userId);
    if (account?.password === undefined || account.password !== password) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
    }
    const deviceId = typeof body.device_id === 'string' ? body.device_id : undefined;
    return this.loginAnswer(userId, this.createSession(userId, deviceId));
  }

  /** Logins also carry discovery information, as Synapse's do when public_baseurl is set. */
  private loginAnswer(userId: string, session: { accessToken: string; deviceId: string }): Json {
    return {
      ...this.credentials(userId, session),
      well_known: { 'm.homeserver': { base_url: `${this.url}/` } },
    };
  }

  private async createRoom(r: Request): Promise<Json> {
    const body = await r.body();
    const creator = r.session.userId;
    const invites = body.invite ?? [];
    if (!Array.isArray(invites) || !invites.every((i) => typeof i === 'string')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'invite must be a list of user IDs');
    }
    for (const invitee of invites) this.requireKnownUser(invitee);
    const preset =
      typeof body.preset === 'string'
        ? body.preset
        : body.visibility === 'public'
          ? 'public_chat'
          : 'private_chat';
    if (!['private_chat', 'public_chat', 'trusted_private_chat'].includes(preset)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid preset');
    }
    let alias: string | undefined;
    if (body.room_alias_name !== undefined) {
      alias = `#${requireString(body, 'room_alias_name')}:${this.serverName}`;
      if (this.aliases.has(alias)) {
        throw new MatrixError(400, 'M_ROOM_IN_USE', 'Room alias already taken');
      }
    }
    const initialState = body.initial_state ?? [];
    if (!Array.isArray(initialState) || !initialState.every(isObject)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'initial_state must be a list of events');
    }
    const plOverride = body.power_level_content_override ?? {};
    if (!isObject(plOverride)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid power_level_content_override');
    }

    const room: Room = {
      roomId: `!${randomId()}:${this.serverName}`,
      events: [],
      state: new Map(),
    };
    this.rooms.set(room.roomId, room);
    const state = (type: string, content: Json, stateKey = '') =>
      this.appendEvent(room, { type, sender: creator, content, state_key: stateKey });
    state('m.room.create', { creator, room_version: '10' });
    state('m.room.member', this.memberContent(creator, 'join'), creator);
    const users: Json = { [creator]: 100 };
    if (preset === 'trusted_private_chat') for (const i of invites) users[i] = 100;
    state('m.room.power_levels', {
      users,
      users_default: 0,
      events: {},
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
      notifications: { room: 50 },
      ...plOverride,
    });
    if (alias) {
      this.aliases.set(alias, room.roomId);
      state('m.room.canonical_alias', { alias });
    }
    state('m.room.join_rules', { join_rule: preset === 'public_chat' ? 'public' : 'invite' });
    state('m.room.history_visibility', { history_visibility: 'shared' });
    if (preset !== 'public_chat') state('m.room.guest_access', { guest_access: 'can_join' });
    for (const ev of initialState) {
      if (typeof ev.type !== 'string' || !isObject(ev.content)) {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid initial_state event');
      }
      state(ev.type, ev.content, typeof ev.state_key === 'string' ? ev.state_key : '');
    }
    if (typeof body.name === 'string') state('m.room.name', { name: body.name });
    if (typeof body.topic === 'string') state('m.room.topic', { topic: body.topic });
    for (const invitee of invites) {
      state('m.room.member', this.memberContent(invitee, 'invite'), invitee);
    }
    return { room_id: room.roomId };
  }

  private async invite(r: Request): Promise<Json> {
    const body = await r.body();
    const target = requireString(body, 'user_id');
    const room = this.roomForMember(r.params[0]!, r.session.userId);
    this.requireKnownUser(target);
    const current = membershipOf(room, target);
    if (current === 'join') throw forbidden(`${target} is already in the room.`);
    if (current === 'ban') throw forbidden(`${target} is banned from the room`);
    const levels = powerLevels(room);
    if (userLevel(levels, r.session.userId) < numberOr(levels.invite, 0)) {
      throw forbidden(`You don't have permission to invite users`);
    }
    if (current !== 'invite') {
      this.appendEvent(room, {
        type: 'm.room.member',
        sender: r.session.userId,
        state_key: target,
        content: { ...this.memberContent(target, 'invite'), ...optionalReason(body) },
      });
    }
    return {};
  }

  private async join(r: Request): Promise<Json> {
    await r.body();
    const idOrAlias = r.params[0]!;
    const roomId = idOrAlias.startsWith('#') ? this.aliases.get(idOrAlias) : idOrAlias;
    const room = roomId ? this.rooms.get(roomId) : undefined;
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'No known servers');
    const userId = r.session.userId;
    const current = membershipOf(room, userId);
    if (current === 'ban') throw forbidden('You are banned from this room');
    const joinRule = room.state.get(stateKeyOf('m.room.join_rules', ''))?.event.content.join_rule;
    if (current !== 'join' && current !== 'invite' && joinRule !== 'public') {
      throw forbidden('You are not invited to this room.');
    }
    if (current !== 'join') {
      this.appendEvent(room, {
        type: 'm.room.member',
        sender: userId,
        state_key: userId,
        content: this.memberContent(userId, 'join'),
      });
    }
    return { room_id: room.roomId };
  }

  private async leave(r: Request): Promise<Json> {
    const body = await r.body();
    const room = this.rooms.get(r.params[0]!);
    const userId = r.session.userId;
    const current = room && membershipOf(room, userId);
    if (!room || (current !== 'join' && current !== 'invite')) {
      throw forbidden(`User ${userId} not in room ${r.params[0]!}`);
    }
    this.appendEvent(room, {
      type: 'm.room.member',
      sender: userId,
      state_key: userId,
      content: { membership: 'leave', ...optionalReason(body) },
    });
    return {};
  }

  private getAllState(r: Request): Promise<ClientEvent[]> {
    const room = this.roomForMember(r.params[0]!, r.session.userId, true);
    return Promise.resolve([...this.visibleState(room, r.session.userId).values()]);
  }

  /**
   * `/messages`: a token `s<n>` is the point after stream position n (sync tokens are such
   * points too, as in Synapse); `dir=f` gives the events after `from` oldest first, `dir=b` those
   * up to `from` newest first, in both cases not past `to`. Former members see the room as of
   * their leaving. Every page with events has an `end`.
   */
  private messages(r: Request): Promise<Json> {
    const userId = r.session.userId;
    const room = this.roomForMember(r.params[0]!, userId, true);
    const dir = r.query.get('dir') ?? 'b';
    if (dir !== 'f' && dir !== 'b') throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown dir');
    const point = (name: string): number | undefined => {
      const token = r.query.get(name);
      if (token === null) return undefined;
      const m = /^s(\d+)$/.exec(token);
      if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid ${name} token: ${token}`);
      return Number(m[1]);
    };
    const from = point('from') ?? (dir === 'f' ? 0 : this.stream);
    const to = point('to');
    const limit = Math.min(1000, Math.max(1, Number(r.query.get('limit') ?? 10) || 10));
    let filter: Json = {};
    const filterParam = r.query.get('filter');
    if (filterParam !== null) {
      try {
        filter = parseJsonObject(Buffer.from(filterParam));
      } catch {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid filter');
      }
    }
    const notSenders = new Set(Array.isArray(filter.not_senders) ? filter.not_senders : []);
    const leftAt =
      membershipOf(room, userId) === 'join'
        ? Infinity
        : (room.state.get(stateKeyOf('m.room.member', userId))?.pos ?? -1);
    const visible = room.events.filter((e) => e.pos <= leftAt && !notSenders.has(e.event.sender));
    const inRange =
      dir === 'f'
        ? visible.filter((e) => e.pos > from && (to === undefined || e.pos <= to))
        : visible.filter((e) => e.pos <= from && (to === undefined || e.pos > to)).reverse();
    const page = inRange.slice(0, limit);
    const last = page[page.length - 1];
    return Promise.resolve({
      chunk: page.map((s) => ({
        ...s.event,
        unsigned: { ...s.event.unsigned, age: Math.max(0, Date.now() - s.event.origin_server_ts) },
      })),
      start: r.query.get('from') ?? `s${from}`,
      ...(last ? { end: `s${dir === 'f' ? last.pos : last.pos - 1}` } : {}),
    });
  }

  private getState(r: Request): Promise<Json> {
    const [roomId, type, stateKey = ''] = r.params as [string, string, string?];
    const userId = r.session.userId;
    const room = this.rooms.get(roomId);
    // Invitees may see their own invite; anything else needs (past) membership.
    const ownMember = type === 'm.room.member' && stateKey === userId;
    if (!(room && ownMember && membershipOf(room, userId) === 'invite')) {
      this.roomForMember(roomId, userId, true);
    }
    const event = this.visibleState(room!, userId).get(stateKeyOf(type, stateKey));
    if (!event) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    return Promise.resolve(event.content);
  }

  private async putState(r: Request): Promise<Json> {
    const [roomId, type, stateKey = ''] = r.params as [string, string, string?];
    const content = await r.body();
    const sender = r.session.userId;
    const room = this.roomForMember(roomId, sender);
    if (stateKey.startsWith('@') && stateKey !== sender) {
      throw forbidden('You are not allowed to set others state');
    }
    if (type === 'm.room.create') throw forbidden('The room create event cannot be replaced');
    if (type === 'm.room.member' && content.membership !== 'join') {
      // Membership changes go through /invite, /join and /leave here.
      throw forbidden('Use the membership endpoints to change membership');
    }
    const levels = powerLevels(room);
    const senderLevel = userLevel(levels, sender);
    const events = isObject(levels.events) ? levels.events : {};
    const required = numberOr(events[type], numberOr(levels.state_default, 50));
    if (senderLevel < required) {
      throw forbidden(
        `You don't have permission to post that to the room. user_level (${senderLevel}) < send_level (${required})`,
      );
    }
    if (type === 'm.room.power_levels') checkPowerLevelChange(levels, content, sender, senderLevel);
    const stored = this.appendEvent(room, { type, sender, content, state_key: stateKey });
    return { event_id: stored.event.event_id };
  }

  private async send(r: Request): Promise<Json> {
    const [roomId, type, txnId] = r.params as [string, string, string];
    const content = await r.body();
    const sender = r.session.userId;
    const device = `${sender}|${r.session.deviceId}`;
    const txnKey = `${device}|${roomId}|${txnId}`;
    const previous = this.txns.get(txnKey);
    if (previous) return { event_id: previous };
    const room = this.roomForMember(roomId, sender);
    const levels = powerLevels(room);
    const events = isObject(levels.events) ? levels.events : {};
    const required = numberOr(events[type], numberOr(levels.events_default, 0));
    const senderLevel = userLevel(levels, sender);
    if (senderLevel < required) {
      throw forbidden(
        `You don't have permission to post that to the room. user_level (${senderLevel}) < send_level (${required})`,
      );
    }
    const stored = this.appendEvent(room, { type, sender, content }, { device, txnId });
    this.txns.set(txnKey, stored.event.event_id);
    return { event_id: stored.event.event_id };
  }

  private getProfile(r: Request): Promise<Json> {
    const profile = this.userProfile(r.params[0]!);
    if (!profile) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
    return Promise.resolve(profile);
  }

  private async putProfile(r: Request, field: 'displayname' | 'avatar_url'): Promise<Json> {
    const userId = r.params[0]!;
    if (userId !== r.session.userId) {
      throw forbidden(`Cannot set another user's ${field}`);
    }
    const body = await r.body();
    const value = body[field];
    if (value !== null && typeof value !== 'string') {
      throw new MatrixError(400, 'M_BAD_JSON', `${field} must be a string`);
    }
    const user = this.users.get(userId)!;
    if (value === null || value === '') delete user[field];
    else user[field] = value;
    // Synapse propagates profile changes to the member events of joined rooms.
    for (const room of this.rooms.values()) {
      if (membershipOf(room, userId) !== 'join') continue;
      this.appendEvent(room, {
        type: 'm.room.member',
        sender: userId,
        state_key: userId,
        content: this.memberContent(userId, 'join'),
      });
    }
    return {};
  }

  private async createFilter(r: Request): Promise<Json> {
    const userId = r.params[0]!;
    if (userId !== r.session.userId) throw forbidden('Can only create filters for local users');
    const filter = await r.body();
    const list = this.filters.get(userId) ?? [];
    this.filters.set(userId, list);
    list.push(filter);
    return { filter_id: String(list.length - 1) };
  }

  private getFilter(r: Request): Promise<Json> {
    const [userId, filterId] = r.params as [string, string];
    if (userId !== r.session.userId) throw forbidden('Cannot get filters for other users');
    return Promise.resolve(this.lookupFilter(userId, filterId));
  }

  private lookupFilter(userId: string, filterId: string): Json {
    const filter = /^\d+$/.test(filterId)
      ? this.filters.get(userId)?.[Number(filterId)]
      : undefined;
    if (!filter) throw new MatrixError(404, 'M_NOT_FOUND', 'No such filter');
    return filter;
  }

  private async sync(r: Request): Promise<Json> {
    const userId = r.session.userId;
    const sinceParam = r.query.get('since');
    let since: number | undefined;
    if (sinceParam !== null) {
      const m = /^s(\d+)$/.exec(sinceParam);
      since = m ? Number(m[1]) : NaN;
      if (!Number.isSafeInteger(since) || since > this.stream) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid stream token: ${sinceParam}`);
      }
    }
    const timeout = Math.max(0, Number(r.query.get('timeout') ?? 0) || 0);
    const setPresence = r.query.get('set_presence') ?? 'online';
    if (!['online', 'offline', 'unavailable'].includes(setPresence)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid set_presence: ${setPresence}`);
    }
    this.presence.set(userId, setPresence);
    const fullState = r.query.get('full_state') === 'true';
    let filter: Json = {};
    const filterParam = r.query.get('filter');
    if (filterParam !== null) {
      if (filterParam.trimStart().startsWith('{')) {
        try {
          filter = parseJsonObject(Buffer.from(filterParam));
        } catch {
          throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid filter');
        }
      } else {
        filter = this.lookupFilter(userId, filterParam);
      }
    }
    const roomFilter = isObject(filter.room) ? filter.room : {};
    const timelineFilter = isObject(roomFilter.timeline) ? roomFilter.timeline : {};
    const limit = Math.max(1, numberOr(timelineFilter.limit, DEFAULT_TIMELINE_LIMIT));
    const notSenders = new Set(
      Array.isArray(timelineFilter.not_senders)
        ? timelineFilter.not_senders.filter((v): v is string => typeof v === 'string')
        : [],
    );
    const device = `${userId}|${r.session.deviceId}`;

    const deadline = Date.now() + timeout;
    for (;;) {
      const result = this.computeSync(userId, device, since, fullState, limit, notSenders);
      // An initial or full-state sync answers at once, as Synapse does.
      if (result.hasData || since === undefined || fullState || Date.now() >= deadline) {
        return result.body;
      }
      if (!this.server) return result.body;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          r.res.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, deadline - Date.now());
        this.waiters.add(done);
        // The client gave up (or stop() dropped the connection): stop waiting.
        r.res.on('close', done);
      });
      if (r.res.destroyed || !this.server) return result.body;
      if (![...this.sessions.values()].includes(r.session)) {
        throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Invalid access token passed.', {
          soft_logout: false,
        });
      }
    }
  }

  private computeSync(
    userId: string,
    device: string,
    since: number | undefined,
    fullState: boolean,
    limit: number,
    notSenders: ReadonlySet<string> = new Set(),
  ): { hasData: boolean; body: Json } {
    const join: Json = {};
    const invite: Json = {};
    const leave: Json = {};
    const format = (s: StoredEvent): SyncEvent => this.formatForSync(s, device);
    for (const room of this.rooms.values()) {
      const member = room.state.get(stateKeyOf('m.room.member', userId));
      if (!member) continue;
      const membership = member.event.content.membership;
      const before = since === undefined ? undefined : membershipAt(room, userId, since);
      if (membership === 'join') {
        const fresh = since === undefined || fullState || before !== 'join';
        // Nothing new in the room (state events are in its timeline too): skip it cheaply.
        if (!fresh && (room.events[room.events.length - 1]?.pos ?? 0) <= since) continue;
        // The timeline filter's not_senders drops events from the timeline only.
        const candidates = (fresh ? room.events : eventsAfter(room, since)).filter(
          (e) => !notSenders.has(e.event.sender),
        );
        const inTimeline = new Set(candidates.slice(-limit));
        const state = [...room.state.values()].filter(
          (s) => !inTimeline.has(s) && (fresh || s.pos > since),
        );
        if (!fresh && candidates.length === 0 && state.length === 0) continue;
        const timeline = candidates.slice(-limit);
        join[room.roomId] = {
          timeline: {
            events: timeline.map(format),
            limited: candidates.length > timeline.length,
            prev_batch: `s${(timeline[0]?.pos ?? this.stream + 1) - 1}`,
          },
          state: { events: state.map(format) },
          account_data: { events: [] },
          ephemeral: { events: [] },
          unread_notifications: { notification_count: 0, highlight_count: 0 },
          summary: {},
        };
      } else if (membership === 'invite') {
        if (since !== undefined && member.pos <= since) continue;
        const stripped = INVITE_STATE_TYPES.flatMap((type) => {
          const s = room.state.get(stateKeyOf(type, ''));
          return s ? [s] : [];
        });
        stripped.push(member);
        invite[room.roomId] = {
          invite_state: {
            events: stripped.map(({ event }) => ({
              type: event.type,
              state_key: event.state_key,
              sender: event.sender,
              content: event.content,
            })),
          },
        };
      } else if (since !== undefined && member.pos > since) {
        // Leave (or ban) since the last sync: send the events up to the leave, once.
        if (before !== 'join' && before !== 'invite') continue;
        const candidates = eventsAfter(room, since).filter((e) => e.pos <= member.pos);
        const timeline = candidates.slice(-limit);
        leave[room.roomId] = {
          timeline: {
            events: timeline.map(format),
            limited: candidates.length > timeline.length,
            prev_batch: `s${timeline[0]!.pos - 1}`,
          },
          state: { events: [] },
          account_data: { events: [] },
        };
      }
    }
    const hasData =
      Object.keys(join).length + Object.keys(invite).length + Object.keys(leave).length > 0;
    return {
      hasData,
      body: {
        next_batch: `s${this.stream}`,
        rooms: { join, invite, leave, knock: {} },
        presence: { events: [] },
        account_data: { events: [] },
        to_device: { events: [] },
        device_lists: { changed: [], left: [] },
        device_one_time_keys_count: {},
      },
    };
  }

  private async upload(r: Request): Promise<Json> {
    const data = await r.rawBody();
    const mediaId = randomId(18);
    const filename = r.query.get('filename') ?? undefined;
    this.media.set(mediaId, {
      contentType: r.req.headers['content-type'] ?? 'application/octet-stream',
      data,
      ...(filename !== undefined ? { filename } : {}),
    });
    return { content_uri: `mxc://${this.serverName}/${mediaId}` };
  }

  private download(r: Request): Promise<undefined> {
    const [serverName, mediaId] = r.params as [string, string];
    const media = serverName === this.serverName ? this.media.get(mediaId) : undefined;
    if (!media) throw new MatrixError(404, 'M_NOT_FOUND', 'Not found');
    r.res.writeHead(200, {
      'Content-Type': media.contentType,
      'Content-Length': media.data.length,
      ...(media.filename
        ? {
            'Content-Disposition': `inline; filename*=utf-8''${encodeURIComponent(media.filename)}`,
          }
        : {}),
    });
    r.res.end(r.req.method === 'HEAD' ? undefined : media.data);
    return Promise.resolve(undefined);
  }

  // ---- State helpers ----

  private createUser(localpart: string, password: string | undefined, admin: boolean): string {
    if (!LOCALPART.test(localpart)) {
      throw new MatrixError(
        400,
        'M_INVALID_USERNAME',
        "User ID can only contain characters a-z, 0-9, or '=_-./+'",
      );
    }
    const userId = `@${localpart}:${this.serverName}`;
    if (this.users.has(userId))
      throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
    // Synapse sets the localpart as the initial display name.
    this.users.set(userId, {
      admin,
      displayname: localpart,
      ...(password !== undefined ? { password } : {}),
    });
    return userId;
  }

  private createSession(
    userId: string,
    deviceId?: string,
  ): { accessToken: string; deviceId: string } {
    const session = { userId, deviceId: deviceId ?? randomBytes(5).toString('hex').toUpperCase() };
    const accessToken = `syt_${randomId(24)}`;
    this.sessions.set(accessToken, session);
    return { accessToken, deviceId: session.deviceId };
  }

  private requireKnownUser(userId: string): void {
    if (!/^@[^:]+:.+$/.test(userId))
      throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user ID: ${userId}`);
    if (userId.endsWith(`:${this.serverName}`) && !this.users.has(userId)) {
      throw new MatrixError(404, 'M_NOT_FOUND', `Unknown user ${userId}`);
    }
  }

  private memberContent(userId: string, membership: string): Json {
    const user = this.users.get(userId);
    return {
      membership,
      ...(user?.displayname !== undefined ? { displayname: user.displayname } : {}),
      ...(user?.avatar_url !== undefined ? { avatar_url: user.avatar_url } : {}),
    };
  }

  /** The room, if the user is joined (or, with `pastOk`, was joined and has since left). */
  private roomForMember(roomId: string, userId: string, pastOk = false): Room {
    const room = this.rooms.get(roomId);
    const membership = room && membershipOf(room, userId);
    if (room && membership === 'join') return room;
    if (room && pastOk && (membership === 'leave' || membership === 'ban')) {
      if (room.events.some((e) => isMemberEvent(e, userId, 'join'))) return room;
    }
    throw forbidden(`User ${userId} not in room ${roomId}`);
  }

  /** Current state for members; for former members, the state as of their leaving. */
  private visibleState(room: Room, userId: string): Map<string, ClientEvent> {
    const result = new Map<string, ClientEvent>();
    const membership = membershipOf(room, userId);
    if (membership === 'join' || membership === 'invite') {
      for (const [key, s] of room.state) result.set(key, s.event);
      if (membership === 'invite') {
        const own = result.get(stateKeyOf('m.room.member', userId))!;
        result.clear();
        result.set(stateKeyOf('m.room.member', userId), own);
      }
      return result;
    }
    const leftAt = room.state.get(stateKeyOf('m.room.member', userId))?.pos ?? -1;
    for (const s of room.events) {
      if (s.pos > leftAt) break;
      if (s.event.state_key !== undefined) {
        result.set(stateKeyOf(s.event.type, s.event.state_key), s.event);
      }
    }
    return result;
  }

  private appendEvent(
    room: Room,
    partial: { type: string; sender: string; content: Json; state_key?: string },
    txn?: StoredEvent['txn'],
  ): StoredEvent {
    const event: ClientEvent = {
      event_id: `$${randomId(32)}`,
      type: partial.type,
      sender: partial.sender,
      origin_server_ts: Date.now(),
      content: partial.content,
      room_id: room.roomId,
      unsigned: {},
      ...(partial.state_key !== undefined ? { state_key: partial.state_key } : {}),
    };
    if (federationBytes(event, room, this.serverName) > this.maxEventBytes) {
      throw new MatrixError(413, 'M_TOO_LARGE', 'event too large');
    }
    if (partial.state_key !== undefined) {
      const previous = room.state.get(stateKeyOf(partial.type, partial.state_key));
      if (previous) {
        event.unsigned = {
          replaces_state: previous.event.event_id,
          prev_content: previous.event.content,
          prev_sender: previous.event.sender,
        };
      }
    }
    const stored: StoredEvent = { pos: ++this.stream, event, ...(txn ? { txn } : {}) };
    room.events.push(stored);
    if (partial.state_key !== undefined) {
      room.state.set(stateKeyOf(partial.type, partial.state_key), stored);
    }
    this.wake();
    for (const listener of this.eventListeners) listener(event);
    return stored;
  }

  private formatForSync(stored: StoredEvent, device: string): SyncEvent {
    // Sync events omit room_id (ClientEventWithoutRoomID); the sending device sees its txn id.
    const event: Partial<ClientEvent> = { ...stored.event };
    delete event.room_id;
    return {
      ...(event as SyncEvent),
      unsigned: {
        ...stored.event.unsigned,
        age: Math.max(0, Date.now() - stored.event.origin_server_ts),
        ...(stored.txn?.device === device ? { transaction_id: stored.txn.txnId } : {}),
      },
    };
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

// ---- Pure helpers ----

/**
 * The bytes of an event as Synapse measures it against MAX_PDU_BYTES: its federation form,
 * with the references to its auth and previous events, depth, hashes and a signature.
 */
function federationBytes(event: ClientEvent, room: Room, serverName: string): number {
  const fields: Partial<ClientEvent> = { ...event };
  delete fields.event_id;
  delete fields.unsigned;
  const authTypes = ['m.room.create', 'm.room.power_levels', 'm.room.join_rules'];
  const auth = [
    ...authTypes.map((type) => room.state.get(stateKeyOf(type, ''))),
    room.state.get(stateKeyOf('m.room.member', event.sender)),
  ].flatMap((s) => (s ? [s.event.event_id] : []));
  const last = room.events[room.events.length - 1];
  const pdu = {
    ...fields,
    auth_events: auth,
    prev_events: last ? [last.event.event_id] : [],
    depth: room.events.length + 1,
    hashes: { sha256: randomId(32) },
    origin: serverName,
    signatures: { [serverName]: { 'ed25519:a_test': randomId(64) } },
    unsigned: { age_ts: event.origin_server_ts },
  };
  return Buffer.byteLength(JSON.stringify(pdu));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new MatrixError(413, 'M_TOO_LARGE', 'Request too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function parseJsonObject(raw: Buffer): Json {
  // Synapse accepts an empty body as an empty object on the endpoints used here.
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
  }
  if (!isObject(parsed)) throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  return parsed;
}

function requireString(body: Json, key: string): string {
  const value = body[key];
  if (value === undefined)
    throw new MatrixError(400, 'M_MISSING_PARAM', `Missing params: ['${key}']`);
  if (typeof value !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid ${key}`);
  return value;
}

function forbidden(message: string): MatrixError {
  return new MatrixError(403, 'M_FORBIDDEN', message);
}

function pick(obj: Json, key: string): Json {
  return obj[key] === undefined ? {} : { [key]: obj[key] };
}

/** A room's events after a stream position; events are in position order, so from the end. */
function eventsAfter(room: Room, since: number): StoredEvent[] {
  let start = room.events.length;
  while (start > 0 && room.events[start - 1]!.pos > since) start--;
  return room.events.slice(start);
}

function optionalReason(body: Json): Json {
  return typeof body.reason === 'string' ? { reason: body.reason } : {};
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}

function membershipOf(room: Room, userId: string): string | undefined {
  const content = room.state.get(stateKeyOf('m.room.member', userId))?.event.content;
  return typeof content?.membership === 'string' ? content.membership : undefined;
}

function membershipAt(room: Room, userId: string, pos: number): string | undefined {
  // Usually the current membership is older than `pos`; else walk back from the newest event.
  const current = room.state.get(stateKeyOf('m.room.member', userId));
  if (current && current.pos <= pos) return current.event.content.membership as string;
  for (let i = room.events.length - 1; i >= 0; i--) {
    const s = room.events[i]!;
    if (s.pos > pos) continue;
    if (s.event.type === 'm.room.member' && s.event.state_key === userId) {
      return s.event.content.membership as string;
    }
  }
  return undefined;
}

function isMemberEvent(s: StoredEvent, userId: string, membership: string): boolean {
  return (
    s.event.type === 'm.room.member' &&
    s.event.state_key === userId &&
    s.event.content.membership === membership
  );
}

function powerLevels(room: Room): Json {
  const event = room.state.get(stateKeyOf('m.room.power_levels', ''));
  if (event) return event.event.content;
  // Without a power levels event the creator has 100 and everything else needs 0 (spec).
  const creator = room.state.get(stateKeyOf('m.room.create', ''))?.event.sender;
  return { users: creator ? { [creator]: 100 } : {}, state_default: 0, events_default: 0 };
}

function userLevel(levels: Json, userId: string): number {
  const users = isObject(levels.users) ? levels.users : {};
  return numberOr(users[userId], numberOr(levels.users_default, 0));
}

/** The spec's auth rule for m.room.power_levels: nobody grants or edits above their own level. */
function checkPowerLevelChange(old: Json, next: Json, sender: string, senderLevel: number): void {
  const deny = () => forbidden("You don't have permission to change these power levels");
  for (const key of PL_TOP_LEVEL) {
    if (old[key] === next[key]) continue;
    if (numberOr(old[key], 0) > senderLevel || numberOr(next[key], 0) > senderLevel) throw deny();
  }
  for (const map of ['events', 'notifications']) {
    const before = isObject(old[map]) ? old[map] : {};
    const after = isObject(next[map]) ? next[map] : {};
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[key] === after[key]) continue;
      if (numberOr(before[key], 0) > senderLevel || numberOr(after[key], 0) > senderLevel) {
        throw deny();
      }
    }
  }
  const before = isObject(old.users) ? old.users : {};
  const after = isObject(next.users) ? next.users : {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] === after[key]) continue;
    if (after[key] !== undefined && numberOr(after[key], 0) > senderLevel) throw deny();
    if (key !== sender && before[key] !== undefined && numberOr(before[key], 0) >= senderLevel) {
      throw deny();
    }
  }
}
