import proxyaddr from 'proxy-addr';
import { z } from 'zod';

export const RESOURCES = ['maubot', 'provisioning', 'webhooks', 'docs', 'metrics'] as const;
export type Resource = (typeof RESOURCES)[number];

/** maubot's `api_features`: which groups of management routes exist. */
export const API_FEATURES = [
  'login',
  'plugin',
  'plugin_upload',
  'instance',
  'instance_database',
  'client',
  'client_proxy',
  'client_auth',
  'dev_open',
  'log',
] as const;
export type ApiFeature = (typeof API_FEATURES)[number];

const listenerSchema = z.strictObject({
  port: z.number().int().min(0).max(65535),
  bindAddress: z.string().min(1).default('127.0.0.1'),
  resources: z.array(z.enum(RESOURCES)).min(1),
});

const homeserverSchema = z.strictObject({
  url: z.url(),
  secret: z.string().nullable().default(null),
});

/** Largest webhook body by default; JIRA's deliveries have this limit without a webhooks section. */
export const DEFAULT_WEBHOOK_BODY_BYTES = 1_048_576;

const webhooksSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Public base of the hook URLs, e.g. https://hooks.example.org/webhook/ */
  urlPrefix: z.url(),
  allowJsTransformationFunctions: z.boolean().default(false),
  /** Limits of one transformation function run (the runner's memory is this + 16 MB). */
  transformationTimeoutMs: z.number().int().min(10).max(60_000).default(500),
  transformationMemoryMb: z.number().int().min(1).max(1024).default(16),
  /** Largest `result` of a transformation, as JSON, in bytes. */
  transformationMaxResultBytes: z.number().int().min(1024).max(16_777_216).default(262_144),
  /** Worker threads that run transformations, and the calls that may wait for them. */
  transformationRunners: z.number().int().min(1).max(32).default(2),
  transformationQueueSize: z.number().int().min(1).default(64),
  transformationQueuePerHook: z.number().int().min(1).default(16),
  waitForComplete: z.boolean().default(false),
  /** Notices carry the payload (uk.half-shot.hookshot.webhook_data) unless a hook says not. */
  includeHookBody: z.boolean().default(true),
  enableHttpGet: z.boolean().default(false),
  /** Outbound webhooks (room messages sent to a URL). */
  outbound: z.boolean().default(false),
  /** Longest lifetime a new hook may have, e.g. "30d"; null = unlimited. */
  maxExpiryTime: z.string().nullable().default(null),
  requireExpiryTime: z.boolean().default(false),
  sendExpiryNotice: z.boolean().default(false),
  /** Largest accepted webhook body in bytes. */
  maxBodyBytes: z.number().int().min(1024).default(DEFAULT_WEBHOOK_BODY_BYTES),
  /** Posts are refused (503) while this many messages, all rooms, wait for the homeserver. */
  maxPendingMessages: z.number().int().min(1).default(100_000),
});

const feedsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  pollIntervalSeconds: z.number().int().min(1).default(600),
  /** How many feeds are fetched at the same time. */
  pollConcurrency: z.number().int().min(1).max(64).default(4),
  pollTimeoutSeconds: z.number().min(1).max(600).default(30),
  /** Time limit of the fetch that checks a feed when a connection is created. */
  validationTimeoutSeconds: z.number().min(1).max(600).default(5),
});

const oauthSchema = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  redirectUri: z.url(),
});

const githubSchema = z.strictObject({
  appId: z.union([z.number().int(), z.string()]),
  privateKeyFile: z.string().min(1),
  webhookSecret: z.string().min(1),
  /** REST API base: https://api.github.com, or https://<enterprise host>/api/v3 */
  apiUrl: z.url().default('https://api.github.com'),
  /** Web base for links and the OAuth pages: https://github.com or the enterprise host. */
  webUrl: z.url().default('https://github.com'),
  oauth: oauthSchema.nullable().default(null),
});

const jiraSchema = z.strictObject({
  webhookSecret: z.string().min(1),
  /** JIRA Cloud (OAuth 2.0 3LO). */
  oauth: oauthSchema.nullable().default(null),
  /** Atlassian's authorisation server and API gateway (changed only for tests). */
  authUrl: z.url().default('https://auth.atlassian.com'),
  apiUrl: z.url().default('https://api.atlassian.com'),
});

/** hookshot's permission levels, lowest first. */
export const PERMISSION_LEVELS = [
  'commands',
  'login',
  'notifications',
  'manageConnections',
  'admin',
] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

const permissionSchema = z.strictObject({
  /** "*", a server name, a user ID or a room ID (members of that room). */
  actor: z.string().min(1),
  services: z
    .array(z.strictObject({ service: z.string().min(1), level: z.enum(PERMISSION_LEVELS) }))
    .min(1),
});

/** The Matrix account that writes connection state and posts notices (the botUserId). */
const provisioningBotSchema = z
  .strictObject({
    homeserver: z.url(),
    /** An access token of botUserId; or a password to log in with once. */
    accessToken: z.string().min(1).nullable().default(null),
    password: z.string().min(1).nullable().default(null),
    displayname: z.string().nullable().default(null),
  })
  .refine((b) => b.accessToken !== null || b.password !== null, {
    message: 'needs accessToken or password',
  });

const encryptionKeySchema = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of 32 bytes');

const defaultFeatures = Object.fromEntries(API_FEATURES.map((f) => [f, true])) as Record<
  ApiFeature,
  boolean
>;

export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('./data'),
  database: z
    .strictObject({
      /** Postgres connection string; null means the embedded database under dataDir. */
      url: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  server: z.strictObject({
    publicUrl: z.url().default('http://localhost:29316'),
    // Shorter than 16 characters is allowed (with a warning at startup): a maubot's secret is
    // kept as it is so that its tokens stay valid.
    unsharedSecret: z.string().min(1, 'must not be empty'),
    uiDirectory: z.string().min(1).nullable().default(null),
    /** What an invalid response does: fail (500) or only be logged. */
    responseValidation: z.enum(['fail', 'log']).default('fail'),
    /** Failed logins allowed per window, from one address and for one admin name. */
    loginRateLimit: z
      .strictObject({
        windowSeconds: z.number().int().min(1).default(300),
        perAddress: z.number().int().min(1).default(20),
        perUser: z.number().int().min(1).default(10),
      })
      .prefault({}),
    /**
     * Reverse proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, `loopback`):
     * the client address of login limits, log socket limits and logs. Empty: the TCP peer.
     */
    trustedProxies: z
      .array(z.string().min(1))
      .default([])
      .superRefine((list, ctx) => {
        try {
          proxyaddr.compile(list);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
  }),
  /** Key for secrets stored in the database (base64 of 32 bytes). */
  encryptionKey: encryptionKeySchema,
  /** Keys secrets were encrypted with before; still read, rewritten with the current key. */
  previousEncryptionKeys: z.array(encryptionKeySchema).default([]),
  listeners: z
    .array(listenerSchema)
    .min(1)
    .default([{ port: 29316, bindAddress: '127.0.0.1', resources: [...RESOURCES] }]),
  /** Admin name → bcrypt hash (plain text is hashed at startup and written back). */
  admins: z.record(z.string().min(1), z.string()).default({}),
  apiFeatures: z
    .strictObject(
      Object.fromEntries(API_FEATURES.map((f) => [f, z.boolean().default(true)])) as Record<
        ApiFeature,
        z.ZodDefault<z.ZodBoolean>
      >,
    )
    .default(defaultFeatures),
  homeservers: z.record(z.string().min(1), homeserverSchema).default({}),
  provisioning: z.strictObject({
    secret: z.string().min(16, 'must be at least 16 characters'),
    botUserId: z
      .string()
      .regex(/^@[^:]+:.+$/, 'must be a Matrix user ID like @bot:example.org')
      .default('@switchboard:localhost'),
    bot: provisioningBotSchema.nullable().default(null),
    /**
     * Who may do what, hookshot's model; null = everyone on botUserId's server is admin.
     * Services: generic, genericOutbound, feeds, github, jira, or "*".
     */
    permissions: z.array(permissionSchema).nullable().default(null),
  }),
  /** Outbound webhooks and feeds may reach loopback and private addresses (off: SSRF guard). */
  allowPrivateDestinations: z.boolean().default(false),
  webhooks: webhooksSchema.nullable().default(null),
  feeds: feedsSchema.nullable().default(null),
  github: githubSchema.nullable().default(null),
  jira: jiraSchema.nullable().default(null),
  /** Plugin host processes (one per plugin) and the limits they and their instances run under. */
  instances: z
    .strictObject({
      memoryLimitMb: z.number().int().min(96).max(16_384).default(256),
      stallTimeoutSeconds: z.number().min(1).max(3600).default(10),
      startTimeoutSeconds: z.number().min(1).max(3600).default(30),
      callsPerSecond: z.number().positive().max(100_000).default(20),
      callBurst: z.number().int().min(1).max(100_000).default(100),
      logRecordsPerSecond: z.number().positive().max(100_000).default(10),
      logBurst: z.number().int().min(1).max(100_000).default(50),
      hostUser: z.string().min(1).default('nobody'),
      /** Each instance's database: limits of every statement (plugin or explorer) and sessions. */
      database: z
        .strictObject({
          statementTimeoutSeconds: z.number().min(0.1).max(3600).default(5),
          maxRows: z.number().int().min(1).max(1_000_000).default(10_000),
          maxResultMb: z.number().min(0.1).max(1024).default(16),
          connectionsPerInstance: z.number().int().min(1).max(100).default(2),
          maxConnections: z.number().int().min(1).max(10_000).default(20),
          idleSeconds: z.number().min(0.1).max(86_400).default(10),
        })
        .prefault({}),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Each module's own section, defaults resolved by the schema; null sections are switched off. */
export type WebhookSettings = NonNullable<Config['webhooks']>;
export type FeedSettings = NonNullable<Config['feeds']>;
export type GithubSettings = NonNullable<Config['github']>;
export type JiraSettings = NonNullable<Config['jira']>;
