import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientFormat, redactedContent } from './event-format';
import { defaultPushRules } from './push-rules';
import {
  forbidden,
  isObject,
  MatrixError,
  membershipOf,
  numberOr,
  powerLevels,
  sendLevel,
  stateAt,
  stateKeyOf,
  userLevel,
  type ClientEvent,
  type Json,
  type Room,
  type StoredEvent,
} from './room-model';
import { SendSlots } from './send-slots';
import { computeSync, eventFilter, parseFilter } from './sync';

export { MatrixError } from './room-model';
export type { ClientEvent } from './room-model';
export type { SyncEvent } from './event-format';

/**
 * An in-process Matrix homeserver for tests: the Client-Server API subset Switchboard's Matrix
 * adapters use, over real HTTP on 127.0.0.1. It answers as Synapse 1.67 does (checked against
 * recorded Synapse answers by conformance.test.ts; README.md lists where it deliberately
 * differs), and keeps its state across stop()/restart().
 */

export interface TestHomeserverOptions {
  serverName?: string;
  /** Enables the Synapse admin shared-secret registration API. */
  registrationSharedSecret?: string;
  /** Offers single sign-on; whoever completes it is logged in as this user (localpart). */
  ssoUser?: string;
  /**
   * Serves the authenticated media endpoints (`/_matrix/client/v1/media/*`, Matrix 1.11) as
   * newer Synapse versions do. Off by default: Synapse 1.67 answers 400 M_UNRECOGNIZED there.
   */
  authenticatedMedia?: boolean;
  /** Each message send takes this long once it has a slot (default 0). */
  sendLatencyMs?: number;
  /** Message sends handled at once; more wait for a slot (default: no limit). See SendSlots. */
  sendCapacity?: number;
  /** The event size limit (default Synapse's 65536 bytes); lower models a stricter server. */
  maxEventBytes?: number;
}

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export interface LoggedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query parameters, without `access_token`. */
  query: Record<string, string>;
  /** Whose token authenticated it, when it needed one and it was valid. */
  userId?: string;
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

/** A request the test holds until it releases it (holdNext). */
interface Hold {
  method: string;
  path: RegExp;
  reached: () => void;
  released: Promise<void>;
}

interface Route {
  method: string;
  pattern: RegExp;
  auth: 'required' | 'none';
  handler: (r: Request) => Promise<unknown>;
}

const CS = '/_matrix/client/(?:v3|r0)';
const MAX_BODY = 50 * 1024 * 1024;
/** Synapse refuses an event whose federation form (canonical JSON) is larger. */
const MAX_PDU_BYTES = 65_536;
const ROOM_VERSION = '9';
const SYNAPSE_VERSIONS = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  'v1.1',
  'v1.2',
];
const UNSTABLE_FEATURES = {
  'org.matrix.label_based_filtering': true,
  'org.matrix.e2e_cross_signing': true,
  'org.matrix.msc2432': true,
  'uk.half-shot.msc2666.mutual_rooms': true,
  'io.element.e2ee_forced.public': false,
  'io.element.e2ee_forced.private': false,
  'io.element.e2ee_forced.trusted_private': false,
  'org.matrix.msc3026.busy_presence': false,
  'org.matrix.msc2285.stable': true,
  'org.matrix.msc3827.stable': true,
  'org.matrix.msc2716': false,
  'org.matrix.msc3030': false,
  'org.matrix.msc3440.stable': true,
  'fi.mau.msc2815': false,
};
const CAPABILITIES = {
  'm.room_versions': {
    default: ROOM_VERSION,
    available: {
      ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i + 1), 'stable'])),
      'org.matrix.msc2176': 'unstable',
      'org.matrix.msc3787': 'unstable',
      'org.matrix.msc2716v4': 'unstable',
    },
    'org.matrix.msc3244.room_capabilities': {
      knock: {
        preferred: '7',
        support: ['7', '8', '9', 'org.matrix.msc3787', '10', 'org.matrix.msc2716v4'],
      },
      restricted: { preferred: '9', support: ['8', '9', 'org.matrix.msc3787', '10'] },
    },
  },
  'm.change_password': { enabled: true },
  'm.set_displayname': { enabled: true },
  'm.set_avatar_url': { enabled: true },
  'm.3pid_changes': { enabled: true },
};
// Synapse's default power levels of a new room (the preset may lower `invite`).
const DEFAULT_EVENT_LEVELS = {
  'm.room.name': 50,
  'm.room.power_levels': 100,
  'm.room.history_visibility': 100,
  'm.room.canonical_alias': 50,
  'm.room.avatar': 50,
  'm.room.tombstone': 100,
  'm.room.server_acl': 100,
  'm.room.encryption': 100,
};
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

const randomId = (bytes = 12) => randomBytes(bytes).toString('base64url');
const notInRoom = (userId: string, roomId: string) =>
  forbidden(`User ${userId} not in room ${roomId}, and room previews are disabled`);

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
  /** Per device: the lazy-loaded member events it was sent (user id → event id). */
  private readonly memberCaches = new Map<string, Map<string, string>>();
  private readonly waiters = new Set<() => void>();
  private readonly eventListeners = new Set<(event: ClientEvent) => void>();
  /** Each user's presence as last set by a /sync `set_presence` (absent means online). */
  private readonly presence = new Map<string, string>();
  private stream = 0;
  private rateLimited = 0;
  private readonly holds: Hold[] = [];

  private constructor(private readonly options: TestHomeserverOptions) {
    this.serverName = options.serverName ?? 'test.local';
    this.sharedSecret = options.registrationSharedSecret;
    this.ssoUser = options.ssoUser;
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

  /**
   * Holds the next request with this method whose (decoded) path matches until `release()`:
   * `reached` resolves once it arrived, so a test can look at the client while it waits.
   */
  holdNext(method: string, path: RegExp): { reached: Promise<void>; release(): void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    this.holds.push({ method, path, reached, released });
    return { reached: arrived, release };
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
      for (const route of this.routes) {
        if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        const params = m.slice(1).map((p) => decodeURIComponent(p ?? ''));
        const session = route.auth === 'required' ? this.authenticate(req, url) : undefined;
        if (session) logged.userId = session.userId;
        const hold = this.holds.findIndex(
          (h) => h.method === method && h.path.test(decodeURIComponent(url.pathname)),
        );
        if (hold >= 0) {
          const [held] = this.holds.splice(hold, 1) as [Hold];
          held.reached();
          await held.released;
        }
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
      // Synapse answers unknown endpoints and unsupported methods alike.
      throw new MatrixError(400, 'M_UNRECOGNIZED', 'Unrecognized request');
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
          versions: this.options.authenticatedMedia
            ? [...SYNAPSE_VERSIONS, 'v1.11']
            : SYNAPSE_VERSIONS,
          unstable_features: UNSTABLE_FEATURES,
        }),
      'none',
    );

    this.route('GET', '/_synapse/admin/v1/register', () => this.getNonce(), 'none');
    this.route('POST', '/_synapse/admin/v1/register', (r) => this.sharedSecretRegister(r), 'none');
    const registrationDisabled = () => {
      throw forbidden('Registration has been disabled');
    };
    this.route('POST', `${CS}/register`, registrationDisabled, 'none');
    this.route('GET', `${CS}/register/available`, registrationDisabled, 'none');

    this.route(
      'GET',
      `${CS}/login`,
      () =>
        Promise.resolve({
          flows: [
            { type: 'm.login.password' },
            ...(this.ssoUser ? [{ type: 'm.login.sso' }, { type: 'm.login.token' }] : []),
            { type: 'm.login.application_service' },
          ],
        }),
      'none',
    );
    // The browser side of SSO, already "completed": straight back with a login token.
    this.route('GET', `${CS}/login/sso/redirect`, (r) => this.ssoRedirect(r), 'none');
    this.route('POST', `${CS}/login`, (r) => this.login(r), 'none');
    this.route('GET', `${CS}/account/whoami`, ({ session }) =>
      Promise.resolve({ user_id: session.userId, is_guest: false, device_id: session.deviceId }),
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
    this.route('GET', `${CS}/capabilities`, () => Promise.resolve({ capabilities: CAPABILITIES }));

    this.route('POST', `${CS}/createRoom`, (r) => this.createRoom(r));
    this.route('POST', `${CS}/rooms/([^/]+)/invite`, (r) => this.invite(r));
    this.route('POST', `${CS}/rooms/([^/]+)/join`, (r) => this.join(r));
    this.route('POST', `${CS}/join/([^/]+)`, (r) => this.join(r));
    this.route('POST', `${CS}/rooms/([^/]+)/leave`, (r) => this.leave(r));
    this.route('POST', `${CS}/rooms/([^/]+)/kick`, (r) => this.kickOrBan(r, 'leave'));
    this.route('POST', `${CS}/rooms/([^/]+)/ban`, (r) => this.kickOrBan(r, 'ban'));
    this.route('POST', `${CS}/rooms/([^/]+)/unban`, (r) => this.unban(r));
    this.route('GET', `${CS}/joined_rooms`, ({ session }) =>
      Promise.resolve({
        joined_rooms: [...this.rooms.values()]
          .filter((room) => membershipOf(room, session.userId) === 'join')
          .map((room) => room.roomId),
      }),
    );
    this.route('GET', `${CS}/rooms/([^/]+)/state`, (r) => this.getAllState(r));
    this.route('GET', `${CS}/rooms/([^/]+)/state/([^/]+)(?:/(.*))?`, (r) => this.getState(r));
    this.route('PUT', `${CS}/rooms/([^/]+)/state/([^/]+)(?:/(.*))?`, (r) => this.putState(r));
    this.route('GET', `${CS}/rooms/([^/]+)/members`, (r) => this.members(r));
    this.route('GET', `${CS}/rooms/([^/]+)/joined_members`, (r) => this.joinedMembers(r));
    this.route('GET', `${CS}/rooms/([^/]+)/messages`, (r) => this.messages(r));
    this.route('GET', `${CS}/rooms/([^/]+)/event/([^/]+)`, (r) => this.getEvent(r));
    this.route('PUT', `${CS}/rooms/([^/]+)/send/([^/]+)/([^/]+)`, (r) =>
      this.sendSlots ? this.sendSlots.run(() => this.send(r)) : this.send(r),
    );
    this.route('PUT', `${CS}/rooms/([^/]+)/redact/([^/]+)/([^/]+)`, (r) => this.redact(r));

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
    this.route('GET', `${CS}/pushrules/?`, ({ session }) =>
      Promise.resolve(defaultPushRules(session.userId)),
    );
    this.route('GET', `${CS}/presence/([^/]+)/status`, (r) => {
      const presence = this.presence.get(r.params[0]!);
      if (!presence) throw new MatrixError(404, 'M_NOT_FOUND', 'Presence not found');
      return Promise.resolve({ presence });
    });

    const media = '/_matrix/media/(?:v3|r0)';
    const mediaConfig = () => Promise.resolve({ 'm.upload.size': MAX_BODY });
    this.route('POST', `${media}/upload`, (r) => this.upload(r));
    this.route('GET', `${media}/config`, mediaConfig);
    const file = '/([^/]+)/([^/]+)(?:/([^/]*))?';
    this.route('GET', `${media}/download${file}`, (r) => this.download(r), 'none');
    // Thumbnails are the original bytes here (no image library).
    this.route('GET', `${media}/thumbnail${file}`, (r) => this.download(r, false), 'none');
    if (this.options.authenticatedMedia) {
      this.route('GET', `/_matrix/client/v1/media/download${file}`, (r) => this.download(r));
      this.route('GET', `/_matrix/client/v1/media/thumbnail${file}`, (r) =>
        this.download(r, false),
      );
      this.route('GET', '/_matrix/client/v1/media/config', mediaConfig);
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
      throw new MatrixError(403, 'M_UNKNOWN', 'HMAC incorrect');
    }
    const userId = this.createUser(username, password, admin);
    const session = this.createSession(userId);
    return {
      user_id: userId,
      home_server: this.serverName,
      access_token: session.accessToken,
      device_id: session.deviceId,
    };
  }

  /** What a login answers. */
  private loggedIn(userId: string, deviceId: string | undefined): Json {
    const session = this.createSession(userId, deviceId);
    return {
      user_id: userId,
      access_token: session.accessToken,
      home_server: this.serverName,
      device_id: session.deviceId,
      well_known: { 'm.homeserver': { base_url: `${this.url}/` } },
    };
  }

  private ssoRedirect(r: Request): Promise<undefined> {
    if (!this.ssoUser) throw new MatrixError(400, 'M_UNRECOGNIZED', 'Unrecognized request');
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
    const deviceId = typeof body.device_id === 'string' ? body.device_id : undefined;
    if (body.type === 'm.login.token' && this.ssoUser) {
      const userId = typeof body.token === 'string' ? this.loginTokens.get(body.token) : undefined;
      if (!userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid login token');
      this.loginTokens.delete(body.token as string);
      return this.loggedIn(userId, deviceId);
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
    return this.loggedIn(userId, deviceId);
  }

  private async createRoom(r: Request): Promise<Json> {
    const body = await r.body();
    const creator = r.session.userId;
    const invites = body.invite ?? [];
    if (!Array.isArray(invites) || !invites.every((i) => typeof i === 'string')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'invite must be a list of user IDs');
    }
    for (const invitee of invites) requireUserId(invitee);
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
    const creation = body.creation_content ?? {};
    if (!isObject(creation)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid creation_content');
    }

    const room: Room = {
      roomId: `!${randomId()}:${this.serverName}`,
      events: [],
      state: new Map(),
      byId: new Map(),
      unread: new Map(),
    };
    this.rooms.set(room.roomId, room);
    const state = (type: string, content: Json, stateKey = '') =>
      this.appendEvent(room, { type, sender: creator, content, state_key: stateKey });
    state('m.room.create', { ...creation, room_version: ROOM_VERSION, creator });
    state('m.room.member', this.memberContent(creator, 'join'), creator);
    const users: Json = { [creator]: 100 };
    if (preset === 'trusted_private_chat') for (const i of invites) users[i] = 100;
    state('m.room.power_levels', {
      users,
      users_default: 0,
      events: DEFAULT_EVENT_LEVELS,
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: preset === 'public_chat' ? 50 : 0,
      historical: 100,
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

  /** The start of /invite, /kick, /ban and /unban: whom, and a room the sender is joined to. */
  private async memberRequest(
    r: Request,
  ): Promise<{ body: Json; target: string; sender: string; room: Room }> {
    const body = await r.body();
    const target = requireString(body, 'user_id');
    requireUserId(target);
    const sender = r.session.userId;
    const room = this.rooms.get(r.params[0]!);
    if (!room || membershipOf(room, sender) !== 'join') {
      throw forbidden(`${sender} not in room ${r.params[0]!}.`);
    }
    return { body, target, sender, room };
  }

  private async invite(r: Request): Promise<Json> {
    const { body, target, sender: inviter, room } = await this.memberRequest(r);
    const current = membershipOf(room, target);
    if (current === 'join') throw forbidden(`${target} is already in the room.`);
    if (current === 'ban') throw forbidden(`${target} is banned from the room`);
    const levels = powerLevels(room);
    if (userLevel(levels, inviter) < numberOr(levels.invite, 0)) {
      throw forbidden(`You don't have permission to invite users`);
    }
    if (current !== 'invite') {
      this.appendEvent(room, {
        type: 'm.room.member',
        sender: inviter,
        state_key: target,
        content: { ...this.memberContent(target, 'invite'), ...optionalReason(body) },
      });
    }
    return {};
  }

  private async join(r: Request): Promise<Json> {
    await r.body();
    const idOrAlias = r.params[0]!;
    let roomId = idOrAlias;
    if (idOrAlias.startsWith('#')) {
      roomId = this.aliases.get(idOrAlias) ?? '';
      if (!roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${idOrAlias} not found`);
    } else if (!idOrAlias.startsWith('!')) {
      throw new MatrixError(400, 'M_UNKNOWN', `${idOrAlias} was not legal room ID or room alias`);
    }
    const room = this.rooms.get(roomId);
    if (!room) {
      throw new MatrixError(
        404,
        'M_UNKNOWN',
        "Can't join remote room because no servers that are in the room have been provided.",
      );
    }
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
    const roomId = r.params[0]!;
    const room = this.rooms.get(roomId);
    if (!room) throw new MatrixError(404, 'M_UNKNOWN', 'Not a known room');
    const userId = r.session.userId;
    const current = membershipOf(room, userId);
    // Leaving again is a no-op; leaving a room never joined is refused.
    if (current === 'leave') return {};
    if (current !== 'join' && current !== 'invite') {
      throw forbidden(`${userId} not in room ${roomId}.`);
    }
    this.appendEvent(room, {
      type: 'm.room.member',
      sender: userId,
      state_key: userId,
      content: { membership: 'leave', ...optionalReason(body) },
    });
    return {};
  }

  /** A kick is a leave sent by someone else; a ban works whatever the target's membership. */
  private async kickOrBan(r: Request, membership: 'leave' | 'ban'): Promise<Json> {
    const { body, target, sender, room } = await this.memberRequest(r);
    const current = membershipOf(room, target);
    if (membership === 'leave' && current !== 'join' && current !== 'invite') {
      throw forbidden('The target user is not in the room');
    }
    const levels = powerLevels(room);
    const senderLevel = userLevel(levels, sender);
    const needed = numberOr(membership === 'ban' ? levels.ban : levels.kick, 50);
    if (senderLevel < needed || senderLevel <= userLevel(levels, target)) {
      throw forbidden(`You cannot ${membership === 'ban' ? 'ban' : 'kick'} user ${target}.`);
    }
    this.appendEvent(room, {
      type: 'm.room.member',
      sender,
      state_key: target,
      content: { membership, ...optionalReason(body) },
    });
    return {};
  }

  private async unban(r: Request): Promise<Json> {
    const { target, sender, room } = await this.memberRequest(r);
    const levels = powerLevels(room);
    if (userLevel(levels, sender) < numberOr(levels.ban, 50)) {
      throw forbidden(`You cannot unban user ${target}.`);
    }
    if (membershipOf(room, target) === 'ban') {
      this.appendEvent(room, {
        type: 'm.room.member',
        sender,
        state_key: target,
        content: { membership: 'leave' },
      });
    }
    return {};
  }

  /**
   * The room and the stream position up to which the user may read it: now for members, the
   * moment they left for former members; anyone else is refused, invitees too.
   */
  private readableRoom(roomId: string, userId: string): { room: Room; upTo: number } {
    const room = this.rooms.get(roomId);
    const member = room?.state.get(stateKeyOf('m.room.member', userId));
    const membership = member?.event.content.membership;
    if (room && membership === 'join') return { room, upTo: this.stream };
    if (room && member && (membership === 'leave' || membership === 'ban')) {
      const wasJoined = room.events.some(
        (s) =>
          s.pos < member.pos &&
          s.event.type === 'm.room.member' &&
          s.event.state_key === userId &&
          s.event.content.membership === 'join',
      );
      if (wasJoined) return { room, upTo: member.pos };
    }
    throw notInRoom(userId, roomId);
  }

  private visibleState(roomId: string, userId: string): Map<string, StoredEvent> {
    const { room, upTo } = this.readableRoom(roomId, userId);
    return upTo === this.stream ? room.state : stateAt(room, upTo);
  }

  private getAllState(r: Request): Promise<Json[]> {
    const state = this.visibleState(r.params[0]!, r.session.userId);
    return Promise.resolve([...state.values()].map((s) => clientFormat(s, 'state')));
  }

  private getState(r: Request): Promise<Json> {
    const [roomId, type, stateKey = ''] = r.params as [string, string, string?];
    const state = this.visibleState(roomId, r.session.userId);
    const event = state.get(stateKeyOf(type, stateKey));
    if (!event) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    return Promise.resolve(event.event.content);
  }

  private members(r: Request): Promise<Json> {
    const state = this.visibleState(r.params[0]!, r.session.userId);
    const only = r.query.get('membership');
    const not = r.query.get('not_membership');
    const chunk = [...state.values()]
      .filter((s) => s.event.type === 'm.room.member')
      .filter((s) => only === null || s.event.content.membership === only)
      .filter((s) => not === null || s.event.content.membership !== not)
      .map((s) => clientFormat(s, 'state'));
    return Promise.resolve({ chunk });
  }

  private joinedMembers(r: Request): Promise<Json> {
    const state = this.visibleState(r.params[0]!, r.session.userId);
    const joined: Json = {};
    for (const s of state.values()) {
      if (s.event.type !== 'm.room.member' || s.event.content.membership !== 'join') continue;
      joined[s.event.state_key!] = {
        avatar_url: s.event.content.avatar_url ?? null,
        display_name: s.event.content.displayname ?? null,
      };
    }
    return Promise.resolve({ joined });
  }

  /**
   * Pagination: tokens are stream positions, `from` is echoed as `start`; a `filter` leaves
   * events out before the limit counts them.
   */
  private messages(r: Request): Promise<Json> {
    const { room, upTo } = this.readableRoom(r.params[0]!, r.session.userId);
    const filterParam = r.query.get('filter');
    let passes: (s: StoredEvent) => boolean = () => true;
    if (filterParam !== null) {
      let definition: unknown;
      try {
        definition = JSON.parse(filterParam);
      } catch {
        throw new MatrixError(400, 'M_UNKNOWN', 'Invalid filter JSON');
      }
      if (!isObject(definition)) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid filter JSON');
      passes = eventFilter(definition);
    }
    const dir = r.query.get('dir') ?? 'f';
    if (dir !== 'b' && dir !== 'f') {
      throw new MatrixError(
        400,
        'M_INVALID_PARAM',
        "Query parameter 'dir' must be one of ['b', 'f']",
      );
    }
    const limit = Math.max(0, Number(r.query.get('limit') ?? 10) || 10);
    const fromParam = r.query.get('from');
    const from = fromParam === null ? (dir === 'b' ? upTo : 0) : this.parseToken(fromParam);
    const toParam = r.query.get('to');
    const to = toParam === null ? undefined : this.parseToken(toParam);
    const chunk: StoredEvent[] = [];
    if (dir === 'b') {
      for (let i = room.events.length - 1; i >= 0 && chunk.length < limit; i--) {
        const s = room.events[i]!;
        if (s.pos > from || s.pos > upTo) continue;
        if (to !== undefined && s.pos <= to) break;
        if (passes(s)) chunk.push(s);
      }
    } else {
      for (const s of room.events) {
        if (chunk.length >= limit || s.pos > upTo) break;
        if (s.pos <= from) continue;
        if (to !== undefined && s.pos > to) break;
        if (passes(s)) chunk.push(s);
      }
    }
    const last = chunk[chunk.length - 1];
    return Promise.resolve({
      chunk: chunk.map((s) => clientFormat(s, 'history')),
      start: fromParam ?? `s${from}`,
      ...(last ? { end: `s${dir === 'b' ? last.pos - 1 : last.pos}` } : {}),
    });
  }

  private getEvent(r: Request): Promise<Json> {
    const [roomId, eventId] = r.params as [string, string];
    const { room, upTo } = this.readableRoom(roomId, r.session.userId);
    const s = room.byId.get(eventId);
    if (!s || s.pos > upTo) {
      throw new MatrixError(404, 'M_NOT_FOUND', `Could not find event ${eventId}`);
    }
    return Promise.resolve(clientFormat(s, 'history'));
  }

  private async putState(r: Request): Promise<Json> {
    const [roomId, type, stateKey = ''] = r.params as [string, string, string?];
    const content = await r.body();
    const sender = r.session.userId;
    const room = this.roomToSendIn(roomId, sender);
    if (stateKey.startsWith('@') && stateKey !== sender) {
      throw forbidden('You are not allowed to set others state');
    }
    if (type === 'm.room.create') throw forbidden('The room create event cannot be replaced');
    if (type === 'm.room.member' && content.membership !== 'join') {
      // Membership changes go through /invite, /join, /leave, /kick and /ban here.
      throw forbidden('Use the membership endpoints to change membership');
    }
    const levels = powerLevels(room);
    const senderLevel = userLevel(levels, sender);
    const required = sendLevel(levels, type, true);
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
    const room = this.roomToSendIn(roomId, sender);
    const levels = powerLevels(room);
    const required = sendLevel(levels, type, false);
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

  /** Own events need `m.room.redaction` rights; others' the `redact` level too. */
  private async redact(r: Request): Promise<Json> {
    const [roomId, eventId, txnId] = r.params as [string, string, string];
    const body = await r.body();
    const sender = r.session.userId;
    const device = `${sender}|${r.session.deviceId}`;
    const txnKey = `${device}|${roomId}|redact|${txnId}`;
    const previous = this.txns.get(txnKey);
    if (previous) return { event_id: previous };
    const room = this.roomToSendIn(roomId, sender);
    const target = room.byId.get(eventId);
    if (!target) throw new MatrixError(404, 'M_NOT_FOUND', `Could not find event ${eventId}`);
    const levels = powerLevels(room);
    const senderLevel = userLevel(levels, sender);
    if (
      senderLevel < sendLevel(levels, 'm.room.redaction', false) ||
      (target.event.sender !== sender && senderLevel < numberOr(levels.redact, 50))
    ) {
      throw forbidden("You don't have permission to redact events");
    }
    const stored = this.appendEvent(
      room,
      { type: 'm.room.redaction', sender, content: { ...optionalReason(body) }, redacts: eventId },
      { device, txnId },
    );
    target.redactedBy = stored;
    target.event.content = redactedContent(target.event);
    this.txns.set(txnKey, stored.event.event_id);
    return { event_id: stored.event.event_id };
  }

  /** The room, if the sender is joined; Synapse's wording for rooms it does not know. */
  private roomToSendIn(roomId: string, sender: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw forbidden('Unknown room');
    const membership = membershipOf(room, sender);
    if (membership !== 'join') {
      throw forbidden(`User ${sender} not in room ${roomId} (${membership ?? 'None'})`);
    }
    return room;
  }

  private getProfile(r: Request): Promise<Json> {
    const profile = this.userProfile(r.params[0]!);
    if (!profile) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
    return Promise.resolve(profile);
  }

  private async putProfile(r: Request, field: 'displayname' | 'avatar_url'): Promise<Json> {
    const userId = r.params[0]!;
    if (userId !== r.session.userId) {
      throw new MatrixError(400, 'M_FORBIDDEN', `Cannot set another user's ${field}`);
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
    parseFilter(filter);
    const list = this.filters.get(userId) ?? [];
    this.filters.set(userId, list);
    list.push(filter);
    return { filter_id: String(list.length - 1) };
  }

  private getFilter(r: Request): Promise<Json> {
    const [userId, filterId] = r.params as [string, string];
    if (userId !== r.session.userId) throw forbidden('Cannot get filters for other users');
    const filter = this.lookupFilter(userId, filterId);
    if (!filter) throw new MatrixError(404, 'M_NOT_FOUND', 'No such filter');
    return Promise.resolve(filter);
  }

  private lookupFilter(userId: string, filterId: string): Json | undefined {
    return /^\d+$/.test(filterId) ? this.filters.get(userId)?.[Number(filterId)] : undefined;
  }

  /** A stream position from a sync or pagination token. */
  private parseToken(value: string): number {
    const m = /^s(\d+)$/.exec(value);
    const pos = m ? Number(m[1]) : NaN;
    if (!Number.isSafeInteger(pos) || pos > this.stream) {
      throw new MatrixError(400, 'M_UNKNOWN', 'Invalid stream token');
    }
    return pos;
  }

  private async sync(r: Request): Promise<Json> {
    const userId = r.session.userId;
    const sinceParam = r.query.get('since');
    const since = sinceParam === null ? undefined : this.parseToken(sinceParam);
    const timeout = Math.max(0, Number(r.query.get('timeout') ?? 0) || 0);
    const setPresence = r.query.get('set_presence') ?? 'online';
    if (!['online', 'offline', 'unavailable'].includes(setPresence)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid set_presence: ${setPresence}`);
    }
    this.presence.set(userId, setPresence);
    const fullState = r.query.get('full_state') === 'true';
    let definition: Json = {};
    const filterParam = r.query.get('filter');
    if (filterParam !== null) {
      if (filterParam.trimStart().startsWith('{')) {
        try {
          definition = parseJsonObject(Buffer.from(filterParam));
        } catch {
          throw new MatrixError(400, 'M_UNKNOWN', 'Invalid filter JSON');
        }
      } else {
        const stored = this.lookupFilter(userId, filterParam);
        if (!stored) throw new MatrixError(400, 'M_INVALID_PARAM', 'No such filter');
        definition = stored;
      }
    }
    const request = {
      userId,
      device: `${userId}|${r.session.deviceId}`,
      since,
      fullState,
      filter: parseFilter(definition),
    };
    const memberCache = (device: string) => this.memberCache(device);

    const deadline = Date.now() + timeout;
    for (;;) {
      const context = { rooms: this.rooms.values(), stream: this.stream, memberCache };
      const result = computeSync(context, request);
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

  private memberCache(device: string): Map<string, string> {
    let cache = this.memberCaches.get(device);
    if (!cache) {
      cache = new Map();
      this.memberCaches.set(device, cache);
    }
    return cache;
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

  private download(r: Request, named = true): Promise<undefined> {
    const [serverName, mediaId, pathName] = r.params as [string, string, string?];
    const media = serverName === this.serverName ? this.media.get(mediaId) : undefined;
    if (!media) {
      throw new MatrixError(404, 'M_NOT_FOUND', `Not found [b'${serverName}', b'${mediaId}']`);
    }
    const filename = (named && (pathName || media.filename)) || undefined;
    r.res.writeHead(200, {
      'Content-Type': media.contentType,
      'Content-Length': media.data.length,
      ...(filename ? { 'Content-Disposition': contentDisposition(filename) } : {}),
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

  private memberContent(userId: string, membership: string): Json {
    const user = this.users.get(userId);
    return {
      membership,
      ...(user?.displayname !== undefined ? { displayname: user.displayname } : {}),
      ...(user?.avatar_url !== undefined ? { avatar_url: user.avatar_url } : {}),
    };
  }

  private appendEvent(
    room: Room,
    partial: { type: string; sender: string; content: Json; state_key?: string; redacts?: string },
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
      ...(partial.redacts !== undefined ? { redacts: partial.redacts } : {}),
    };
    if (federationBytes(event, room, this.serverName) > this.maxEventBytes) {
      throw new MatrixError(413, 'M_TOO_LARGE', 'event too large');
    }
    const stored: StoredEvent = { pos: ++this.stream, event, ...(txn ? { txn } : {}) };
    if (partial.state_key !== undefined) {
      const key = stateKeyOf(partial.type, partial.state_key);
      const previous = room.state.get(key);
      if (previous) {
        stored.replaced = previous;
        event.unsigned = {
          replaces_state: previous.event.event_id,
          prev_content: previous.event.content,
          prev_sender: previous.event.sender,
        };
      }
      room.state.set(key, stored);
    }
    room.events.push(stored);
    room.byId.set(event.event_id, stored);
    countUnread(room, stored);
    this.wake();
    for (const listener of this.eventListeners) listener(event);
    return stored;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

// ---- Pure helpers ----

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

/** Synapse checks the syntax of user ids, not that a local user exists. */
function requireUserId(userId: string): void {
  if (!/^@[^:]+:.+$/.test(userId)) {
    throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user ID: ${userId}`);
  }
}

function pick(obj: Json, key: string): Json {
  return obj[key] === undefined ? {} : { [key]: obj[key] };
}

function optionalReason(body: Json): Json {
  return typeof body.reason === 'string' ? { reason: body.reason } : {};
}

function contentDisposition(filename: string): string {
  return /^[\x20-\x7e]+$/.test(filename) && !/[";\\]/.test(filename)
    ? `inline; filename=${filename}`
    : `inline; filename*=utf-8''${encodeURIComponent(filename)}`;
}

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

/**
 * The default push rules' notification count: other members' messages (not notices, which
 * `.m.rule.suppress_notices` silences) since each member's latest join.
 */
function countUnread(room: Room, s: StoredEvent): void {
  const { type, sender, content, state_key: stateKey } = s.event;
  if (type === 'm.room.member' && content.membership === 'join') {
    room.unread.set(stateKey!, 0);
    return;
  }
  const notifies =
    (type === 'm.room.message' && content.msgtype !== 'm.notice') || type === 'm.room.encrypted';
  if (!notifies) return;
  for (const [userId, count] of room.unread) {
    if (userId !== sender && membershipOf(room, userId) === 'join')
      room.unread.set(userId, count + 1);
  }
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
