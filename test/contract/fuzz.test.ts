import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { signToken } from '../../src/admins/token';
import { loadSpec, type ApiName } from '../../src/http/openapi';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { TEST_PASSWORD, TEST_PROVISIONING_SECRET } from '../helpers/config';
import { captureLogs } from '../helpers/log-capture';
import { schemaArbitrary, type Schema } from '../helpers/schema-arbitrary';
import { buildPlugin } from '../helpers/zip';
import { FakeAtlassian } from '../fakes/atlassian-api';
import { FakeGithub } from '../fakes/github-api';

/**
 * Spec-driven fuzzing of everything a listener serves: both APIs (from their OpenAPI specs),
 * the generic webhook ingress and the GitHub and JIRA webhook ingress, with valid, invalid and
 * hostile requests. Whatever comes back must be a status the operation declares, with no error
 * logged (an unhandled error or a response that breaks the contract is logged as one), within
 * 5 s, and the server must answer /health afterwards.
 *
 * FUZZ_SEED reproduces a run (the seed is printed when a property fails); FUZZ_RUNS scales the
 * number of requests per property.
 */
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now();
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const REQUEST_LIMIT_MS = 5_000;
const HOOK_SECRET = 'fuzz-hook-secret';
const JIRA_SECRET = 'fuzz-jira-secret';
const PLUGIN_ID = 'xyz.maubot.echo';
const MB = 1024 * 1024;

jest.setTimeout(300_000);

const BASES: Record<ApiName, string> = { maubot: '/_matrix/maubot/v1', provisioning: '/v1' };
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  api: ApiName;
  method: string;
  path: string;
  pattern: RegExp;
  declared: Set<string>;
  body?: { schema?: Schema; json: boolean };
  spec: Record<string, unknown>;
}

function operations(api: ApiName): Operation[] {
  const spec = loadSpec(api);
  const out: Operation[] = [];
  const paths = spec.paths as Record<string, Record<string, Record<string, unknown>>>;
  for (const [path, item] of Object.entries(paths)) {
    // The proxy passes everything on to the homeserver, and /logs is a websocket.
    if (path.startsWith('/proxy/') || path === '/logs') continue;
    const literal = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^${literal.replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      let requestBody = op.requestBody as Schema | undefined;
      if (typeof requestBody?.$ref === 'string') {
        const name = requestBody.$ref.split('/').at(-1)!;
        requestBody = (spec.components as { requestBodies: Record<string, Schema> }).requestBodies[
          name
        ];
      }
      const content = requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      const json = content?.['application/json'];
      out.push({
        api,
        method: method.toUpperCase(),
        path,
        pattern,
        declared: new Set(Object.keys(op.responses as Record<string, unknown>)),
        ...(content
          ? { body: { json: json !== undefined, ...(json?.schema ? { schema: json.schema } : {}) } }
          : {}),
        spec,
      });
    }
  }
  return out;
}

interface FuzzRequest {
  method: string;
  /** Sent exactly as written: no normalisation of `..` or percent-escapes. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

let origin = '';

/** How a request is printed in a counterexample: bodies by size and first bytes. */
function describeRequest(req: FuzzRequest): string {
  const path = req.path.length > 200 ? `${req.path.slice(0, 200)}… (${req.path.length})` : req.path;
  const body = req.body
    ? ` body ${req.body.length} bytes: ${JSON.stringify(req.body.subarray(0, 80).toString('latin1'))}`
    : '';
  return `${req.method} ${path} ${JSON.stringify(req.headers)}${body}`;
}

/** Marks a body so that fast-check prints it short. */
function printable<T extends { body: Buffer; type: string | undefined }>(b: T): T {
  return Object.assign(b, {
    [fc.toStringMethod]: () =>
      `${b.type ?? 'no type'} ${b.body.length} bytes ${JSON.stringify(b.body.subarray(0, 60).toString('latin1'))}`,
  });
}

function send(req: FuzzRequest): Promise<FuzzResponse> {
  const url = new URL(origin);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: {
          ...req.headers,
          ...(req.body ? { 'Content-Length': String(req.body.length) } : {}),
        },
        timeout: REQUEST_LIMIT_MS * 2,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 500),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${REQUEST_LIMIT_MS * 2} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

// ---- hostile parts -------------------------------------------------------------------------

const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

type TypedBody = { type: string | undefined; body: Buffer };

/** Bodies that are not what any operation wants. */
const HOSTILE_BODIES: TypedBody[] = [
  { type: 'application/json', body: Buffer.from(JSON.stringify('x'.repeat(MB))) },
  { type: 'application/json', body: Buffer.from(JSON.stringify({ text: 'x'.repeat(MB) })) },
  { type: 'application/json', body: Buffer.from(deepArray(50_000)) },
  { type: 'application/json', body: Buffer.from(deepObject(20_000)) },
  { type: 'application/json', body: Buffer.from(deepArray(2_000)) },
  { type: 'application/json', body: Buffer.from(deepObject(500)) },
  // Deep inside an otherwise plausible object, past a validator that stops at the known fields.
  {
    type: 'application/json',
    body: Buffer.from(`{"name":"deep","text":"x","config":${deepObject(5_000)}}`),
  },
  { type: 'application/json', body: Buffer.from('{"a":') },
  { type: 'application/json', body: Buffer.from('{"a":1}garbage') },
  { type: 'application/json', body: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]) },
  { type: 'application/json', body: Buffer.from('{"a":"\u0000\ud800"}') },
  { type: 'application/json', body: Buffer.from('{"__proto__":{"polluted":1}}') },
  { type: 'application/json', body: Buffer.from('null') },
  { type: 'application/json', body: Buffer.from('[]') },
  { type: 'application/json', body: Buffer.from('1e999') },
  { type: 'text/plain', body: Buffer.from('[[[['.repeat(MB / 4)) },
  { type: 'text/plain', body: Buffer.from('>'.repeat(MB)) },
  { type: 'application/xml', body: Buffer.from('<a>'.repeat(20_000)) },
  {
    type: 'application/xml',
    body: Buffer.from('<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx">]><a>&x;&x;&x;</a>'),
  },
  { type: 'application/x-www-form-urlencoded', body: Buffer.from('a=1&'.repeat(5000)) },
  { type: 'application/x-www-form-urlencoded', body: Buffer.from('a[b][c][d]=%00&%zz') },
  { type: 'multipart/form-data; boundary=x', body: Buffer.from('--x\r\nbroken') },
  { type: 'application/zip', body: Buffer.from('PK\u0003\u0004 not a zip') },
  { type: 'application/octet-stream', body: Buffer.alloc(2 * MB) },
  { type: undefined, body: Buffer.from('{}') },
  { type: 'application/json; charset=utf-16', body: Buffer.from('{}') },
  { type: 'image/png', body: Buffer.from('{}') },
  { type: '', body: Buffer.from('{}') },
];

const jsonBody = (v: unknown): TypedBody =>
  printable({ type: 'application/json', body: Buffer.from(JSON.stringify(v) ?? 'null') });

const hostileBody: fc.Arbitrary<TypedBody> = fc.oneof(
  fc.constantFrom(...HOSTILE_BODIES.map(printable)),
  fc
    .string({ unit: 'binary', maxLength: 64 })
    .map((s) => printable({ type: 'application/json', body: Buffer.from(s) })),
  fc.jsonValue({ maxDepth: 3 }).map(jsonBody),
);

/** Path segments an attacker would try in place of an id. */
const hostileSegment = fc.oneof(
  fc.constantFrom(
    '..',
    '%2e%2e',
    '..%2f..%2f..%2fetc%2fpasswd',
    '%2e%2e%2f%2e%2e',
    '.',
    '%00',
    'a%00b',
    '%',
    '%zz',
    '%2F',
    '%C0%AE%C0%AE',
    '%F0%9F%92%A9',
    '%ED%A0%80',
    'a'.repeat(300),
    'a'.repeat(9_000),
    '%20',
    '~',
    'con',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encodeURIComponent),
);

// ---- the server under test ----------------------------------------------------------------

interface Fixtures {
  roomId: string;
  userId: string;
  hookIds: string[];
  hooks: Record<string, string>;
}

let b: BridgeHarness;
let github: FakeGithub;
let atlassian: FakeAtlassian;
let fixtures: Fixtures;
const logs = captureLogs('warn');

/**
 * Errors logged since the last call (an unhandled error, a broken response contract); the access
 * log's line for a declared 5xx is not one.
 */
let seenLines = 0;
function newErrors(): Record<string, unknown>[] {
  const lines = logs.lines;
  const fresh = lines.slice(seenLines);
  seenLines = lines.length;
  // The access log's line for a 500 (it carries the request id) is the answer itself, checked
  // against the declared statuses; every other error line is a finding.
  return fresh.filter((l) => typeof l.level === 'number' && l.level >= 50 && l.reqId === undefined);
}

beforeAll(async () => {
  github = await new FakeGithub().start();
  atlassian = await new FakeAtlassian().start();
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
  writeFileSync(join(dir, 'app.pem'), github.privateKeyPem);
  b = await startBridge('embedded', {
    logger: logs.logger,
    config: {
      webhooks: {
        urlPrefix: 'https://hooks.example.org/webhook/',
        allowJsTransformationFunctions: true,
        enableHttpGet: true,
      },
      github: {
        appId: github.appId,
        privateKeyFile: join(dir, 'app.pem'),
        webhookSecret: HOOK_SECRET,
        apiUrl: github.url,
        webUrl: github.url,
        oauth: {
          clientId: github.clientId,
          clientSecret: github.clientSecret,
          redirectUri: 'http://127.0.0.1/oauth',
        },
      },
      jira: {
        webhookSecret: JIRA_SECRET,
        oauth: null,
        authUrl: atlassian.url,
        apiUrl: atlassian.url,
      },
    },
  });
  origin = await b.t.listen();
  const alice = b.user('alice');
  const roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
  const hooks: Record<string, string> = {};
  for (const [name, extra] of [
    ['plain', {}],
    ['transformed', { transformationFunction: 'result = { plain: String(data.text ?? "x") };' }],
    ['waiting', { waitForComplete: true }],
  ] as const) {
    const res = await b
      .v1('put', `/${roomId}/connections/uk.half-shot.matrix-hookshot.generic.hook`, alice.userId)
      .send({ name, ...extra });
    expect(res.status).toBe(200);
    hooks[name] = (res.body as { secrets: { hookId: string } }).secrets.hookId;
  }
  const upload = await send({
    method: 'POST',
    path: `${BASES.maubot}/plugins/upload`,
    headers: { Authorization: `Bearer ${b.t.token}`, 'Content-Type': 'application/zip' },
    body: buildPlugin(),
  });
  expect(upload.status).toBe(201);
  fixtures = { roomId, userId: alice.userId, hookIds: Object.values(hooks), hooks };
  newErrors();
});

afterAll(async () => {
  await b?.close();
  await github?.close();
  await atlassian?.close();
});

// ---- the check every response goes through -------------------------------------------------

interface Verdict {
  request: string;
  status: number;
  ms: number;
  errors: unknown[];
}

function summary(req: FuzzRequest, res: FuzzResponse): Verdict {
  return {
    request: describeRequest(req),
    status: res.status,
    ms: Math.round(res.ms),
    errors: newErrors().map((l) => {
      const err = l.err as { message?: string; stack?: string } | undefined;
      return `${String(l.msg)}${err ? `: ${err.stack ?? err.message}` : ''}`.slice(0, 800);
    }),
  };
}

async function check(req: FuzzRequest, allowed: ReadonlySet<string>): Promise<void> {
  const res = await send(req);
  const verdict = summary(req, res);
  const ok =
    (allowed.has(String(res.status)) || allowed.has('default')) &&
    verdict.errors.length === 0 &&
    res.ms < REQUEST_LIMIT_MS;
  if (!ok) {
    throw new Error(
      `${JSON.stringify(verdict)} allowed: ${[...allowed].join(',')} body: ${res.body.slice(0, 200)}` +
        ` (FUZZ_SEED=${SEED} reproduces this run)`,
    );
  }
}

const runs = (n: number) => ({
  seed: SEED,
  numRuns: Math.max(1, Math.round(n)),
  endOnFailure: true,
});

// ---- the APIs --------------------------------------------------------------------------------

type Auth = 'valid' | 'none' | 'other-api' | 'forged' | 'query';
const AUTHS: Auth[] = ['valid', 'valid', 'valid', 'none', 'other-api', 'forged', 'query'];

function authHeaders(api: ApiName, auth: Auth): { headers: Record<string, string>; query: string } {
  const maubot = b.t.token;
  const forged = signToken('not-the-secret', 'admin');
  const valid = api === 'maubot' ? maubot : TEST_PROVISIONING_SECRET;
  const other = api === 'maubot' ? TEST_PROVISIONING_SECRET : maubot;
  switch (auth) {
    case 'valid':
      return { headers: { Authorization: `Bearer ${valid}` }, query: '' };
    case 'none':
      return { headers: {}, query: '' };
    case 'other-api':
      return { headers: { Authorization: `Bearer ${other}` }, query: '' };
    case 'forged':
      return { headers: { Authorization: `Bearer ${forged}` }, query: '' };
    case 'query':
      return { headers: {}, query: `access_token=${encodeURIComponent(valid)}` };
  }
}

/** A value for one path parameter: a known id, random text or an attack. */
function segment(name: string): fc.Arbitrary<string> {
  const known: Record<string, string[]> = {
    id: [PLUGIN_ID, 'no-such-id'],
    roomId: [encodeURIComponent(fixtures.roomId), encodeURIComponent('!nowhere:example.org')],
    connectionIdOrType: [
      'uk.half-shot.matrix-hookshot.generic.hook',
      'uk.half-shot.matrix-hookshot.github.repository',
      'uk.half-shot.matrix-hookshot.jira.project',
      'uk.half-shot.matrix-hookshot.feed',
      'no-such-connection',
    ],
    server: ['example.org', 'unknown'],
    table: ['kv', 'pg_class', 'no_such_table'],
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(known[name] ?? ['probe'])) },
    { weight: 2, arbitrary: hostileSegment },
  );
}

function operationRequest(op: Operation): fc.Arbitrary<{ req: FuzzRequest; hostilePath: boolean }> {
  const params = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const bodyValue: fc.Arbitrary<TypedBody | undefined> = op.body?.schema
    ? fc.oneof(
        {
          weight: 3,
          arbitrary: schemaArbitrary(op.body.schema, {
            spec: op.spec,
            fixedStrings: {
              homeserver: ['http://127.0.0.1:1', 'example.org'],
              url: ['http://127.0.0.1:1/feed'],
              password: [TEST_PASSWORD, 'wrong'],
              username: ['admin', 'nobody', 'nopassword'],
              access_token: ['token'],
              transformationFunction: ['result = { plain: "x" };', 'while(true){}'],
            },
          }).map(jsonBody),
        },
        { weight: 2, arbitrary: hostileBody },
        { weight: 1, arbitrary: fc.constant(undefined) },
      )
    : fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: hostileBody },
      );
  return fc
    .record({
      values: fc.tuple(...params.map((p) => segment(p)), fc.constant('')),
      auth: fc.constantFrom(...AUTHS),
      user: fc.constantFrom(
        fixtures.userId,
        '@bridgebot:localhost',
        'not-a-user-id',
        '@admin:example.org',
        '',
      ),
      body: bodyValue,
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(op.method) },
        { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'TRACE', 'PROPFIND', 'HEAD') },
      ),
    })
    .map(({ values, auth, user, body, method }) => {
      let i = 0;
      const path = op.path.replace(/\{[^}]+\}/g, () => values[i++]!);
      const { headers, query } = authHeaders(op.api, auth);
      const parts = [
        query,
        op.api === 'provisioning' && user !== '' ? `userId=${encodeURIComponent(user)}` : '',
      ];
      const qs = parts.filter(Boolean).join('&');
      // An id with a `/` (or a `..` a client would resolve) names another path.
      const hostilePath = !op.pattern.test(path);
      const req: FuzzRequest = {
        method,
        path: `${BASES[op.api]}${path}${qs ? `?${qs}` : ''}`,
        headers: {
          ...headers,
          ...(body?.type !== undefined ? { 'Content-Type': body.type } : {}),
        },
        ...(body ? { body: body.body } : {}),
      };
      return { hostilePath, req, [fc.toStringMethod]: () => describeRequest(req) };
    });
}

/**
 * What a request may be answered with: its operation's declared statuses; for a method the path
 * does not serve, 405 (maubot checks the token first: 401); for a path that no longer names the
 * operation (an id with `/` or `..` in it), whatever any operation of the API declares.
 */
function allowedFor(
  op: Operation,
  method: string,
  hostilePath: boolean,
  all: Operation[],
): Set<string> {
  const allowed = new Set(op.declared);
  if (method !== op.method) {
    for (const s of ['401', '404', '405', '431']) allowed.add(s);
    // The provisioning API checks userId before it routes (as hookshot does).
    if (op.api === 'provisioning') allowed.add('400');
    // HEAD is answered as the path's GET.
    const get = all.find((o) => o.api === op.api && o.path === op.path && o.method === 'GET');
    if (method === 'HEAD' && get) for (const s of get.declared) allowed.add(s);
  }
  if (hostilePath) {
    for (const other of all)
      if (other.api === op.api) for (const s of other.declared) allowed.add(s);
  }
  // Undeclared 5xx are never allowed, whatever path the request ended up on.
  for (const s of [...allowed]) if (s.startsWith('5') && !op.declared.has(s)) allowed.delete(s);
  return allowed;
}

const API_OPERATIONS = [...operations('maubot'), ...operations('provisioning')];

describe('fuzzing both APIs from their specs', () => {
  it.each(API_OPERATIONS.map((op) => [`${op.method} ${BASES[op.api]}${op.path}`, op] as const))(
    '%s answers only declared statuses, without errors, within 5 s',
    async (_name, op) => {
      await fc.assert(
        fc.asyncProperty(operationRequest(op), async ({ req, hostilePath }) => {
          await check(req, allowedFor(op, req.method, hostilePath, API_OPERATIONS));
        }),
        runs(RUNS / 10),
      );
    },
  );
});

// ---- the webhook ingress -------------------------------------------------------------------

/** hookshot's answers to a hook: accepted, delivered, refused body, unknown hook, wrong method. */
const WEBHOOK_STATUSES = new Set(['200', '202', '400', '404', '405', '413', '431', '503']);

describe('fuzzing the webhook ingress', () => {
  it('a hook answers only its documented statuses, without errors, within 5 s', async () => {
    const hook = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...fixtures.hookIds) },
      { weight: 2, arbitrary: hostileSegment },
      { weight: 1, arbitrary: fc.uuid() },
    );
    const body = fc.oneof(
      hostileBody,
      fc.jsonValue({ maxDepth: 4 }).map(jsonBody),
      fc
        .record({ text: fc.string({ unit: 'binary', maxLength: 200 }), username: fc.string() })
        .map(jsonBody),
      // hookshot's forms: each field a string, as a form sends them.
      fc
        .dictionary(fc.string({ maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 40 }), {
          maxKeys: 6,
        })
        .map((fields) =>
          printable({
            type: 'application/x-www-form-urlencoded',
            body: Buffer.from(new URLSearchParams(fields).toString()),
          }),
        ),
    );
    await fc.assert(
      fc.asyncProperty(
        hook,
        body,
        fc.constantFrom('POST', 'POST', 'PUT', 'GET', 'DELETE', 'PATCH'),
        fc.constantFrom('', '?a=1', '?text=%00', `?${'x'.repeat(4000)}=1`),
        async (id, { type, body: bytes }, method, query) => {
          await check(
            {
              method,
              path: `/webhook/${id}${query}`,
              headers: type !== undefined ? { 'Content-Type': type } : {},
              ...(method === 'GET' ? {} : { body: bytes }),
            },
            WEBHOOK_STATUSES,
          );
        },
      ),
      runs(RUNS),
    );
  });
});

// ---- GitHub and JIRA ingress ---------------------------------------------------------------

const hubSignature = (secret: string, body: Buffer, algorithm = 'sha256'): string =>
  `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`;

/** A sender's answers: taken, unreadable, not signed by the configured secret, too large. */
const SENDER_STATUSES = new Set(['200', '400', '401', '413', '431']);

/**
 * An OAuth callback's answers: the result page, a bad or missing state or code, a user without
 * the permission, an unknown or expired state, JIRA's OAuth switched off (500 HS_DISABLED_FEATURE,
 * as hookshot).
 */
const OAUTH_STATUSES = new Set(['200', '400', '403', '404', '431', '500']);

describe('fuzzing the GitHub and JIRA ingress', () => {
  const payload = fc.oneof(
    hostileBody,
    fc
      .record({
        action: fc.constantFrom('opened', 'closed', 'created', 'x'),
        repository: fc.record({ full_name: fc.constantFrom('acme/widgets', 'a/b', '') }),
        issue: fc.jsonValue({ maxDepth: 2 }),
        pull_request: fc.jsonValue({ maxDepth: 2 }),
        webhookEvent: fc.constantFrom('jira:issue_created', 'jira:issue_updated', 'x'),
      })
      .map(jsonBody),
  );

  it('GitHub deliveries answer only documented statuses, without errors, within 5 s', async () => {
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.constantFrom('valid', 'valid', 'wrong', 'none', 'sha1'),
        fc.constantFrom('push', 'issues', 'pull_request', 'ping', '', 'x'.repeat(2000)),
        fc.oneof(fc.uuid(), fc.constantFrom('', 'same-id')),
        fc.constantFrom('/github/webhook', '/'),
        async ({ type, body }, signed, event, delivery, path) => {
          const headers: Record<string, string> = {
            'X-GitHub-Event': event,
            'X-GitHub-Delivery': delivery || 'fallback',
            ...(type !== undefined ? { 'Content-Type': type } : {}),
          };
          if (signed === 'valid') headers['X-Hub-Signature-256'] = hubSignature(HOOK_SECRET, body);
          if (signed === 'wrong') headers['X-Hub-Signature-256'] = hubSignature('nope', body);
          if (signed === 'sha1')
            headers['X-Hub-Signature-256'] = hubSignature(HOOK_SECRET, body, 'sha1');
          await check({ method: 'POST', path, headers, body }, SENDER_STATUSES);
        },
      ),
      runs(RUNS / 2),
    );
  });

  it('JIRA deliveries answer only documented statuses, without errors, within 5 s', async () => {
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.constantFrom('query', 'signature', 'wrong-query', 'wrong-signature', 'none'),
        fc.oneof(fc.uuid(), fc.constant('')),
        fc.constantFrom('/jira/webhook', '/'),
        async ({ type, body }, auth, delivery, path) => {
          const headers: Record<string, string> = {
            'User-Agent': 'JIRA',
            ...(delivery ? { 'X-Atlassian-Webhook-Identifier': delivery } : {}),
            ...(type !== undefined ? { 'Content-Type': type } : {}),
          };
          let query = '';
          if (auth === 'query') query = `?secret=${JIRA_SECRET}`;
          if (auth === 'wrong-query') query = '?secret=nope';
          if (auth === 'signature') headers['X-Hub-Signature'] = hubSignature(JIRA_SECRET, body);
          if (auth === 'wrong-signature') headers['X-Hub-Signature'] = hubSignature('nope', body);
          await check({ method: 'POST', path: `${path}${query}`, headers, body }, SENDER_STATUSES);
        },
      ),
      runs(RUNS / 2),
    );
  });
});

describe('fuzzing the OAuth callback pages', () => {
  it('the callbacks answer only documented statuses, without errors, within 5 s', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
      hostileSegment,
      fc.constant(''),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/oauth', '/github/oauth', '/jira/oauth'),
        fc.dictionary(
          fc.constantFrom('state', 'code', 'setup_action', 'installation_id', 'error', 'x'),
          value,
          {
            maxKeys: 4,
          },
        ),
        async (path, query) => {
          const qs = Object.entries(query)
            .map(([k, v]) => `${k}=${v}`)
            .join('&');
          await check(
            { method: 'GET', path: `${path}${qs ? `?${qs}` : ''}`, headers: {} },
            OAUTH_STATUSES,
          );
        },
      ),
      runs(RUNS / 4),
    );
  });
});

describe('after the fuzzing', () => {
  it('the server still answers /health and /ready, and logged no error', async () => {
    const health = await send({ method: 'GET', path: '/health', headers: {} });
    expect({ status: health.status, body: health.body }).toEqual({
      status: 200,
      body: '{"status":"ok"}',
    });
    const ready = await send({ method: 'GET', path: '/ready', headers: {} });
    expect(ready.status).toBe(200);
    expect(newErrors()).toEqual([]);
  });
});
