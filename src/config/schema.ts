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

const webhooksSchema = z.strictObject({
  enabled: z.boolean().default(true),
  urlPrefix: z.url(),
  allowJsTransformationFunctions: z.boolean().default(false),
  waitForComplete: z.boolean().default(false),
  enableHttpGet: z.boolean().default(false),
  outbound: z.boolean().default(false),
  maxExpiryTime: z.string().nullable().default(null),
  requireExpiryTime: z.boolean().default(false),
  sendExpiryNotice: z.boolean().default(false),
});

const feedsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  pollIntervalSeconds: z.number().int().min(1).default(600),
});

const githubSchema = z.strictObject({
  appId: z.union([z.number().int(), z.string()]),
  privateKeyFile: z.string().min(1),
  webhookSecret: z.string().min(1),
  apiUrl: z.url().default('https://api.github.com'),
  oauth: z
    .strictObject({ clientId: z.string(), clientSecret: z.string(), redirectUri: z.url() })
    .nullable()
    .default(null),
});

const jiraSchema = z.strictObject({
  webhookSecret: z.string().min(1),
  oauth: z
    .strictObject({ clientId: z.string(), clientSecret: z.string(), redirectUri: z.url() })
    .nullable()
    .default(null),
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
    unsharedSecret: z.string().min(16, 'must be at least 16 characters'),
    uiDirectory: z.string().min(1).nullable().default(null),
    /** What an invalid response does: fail (500) or only be logged. */
    responseValidation: z.enum(['fail', 'log']).default('fail'),
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
  }),
  webhooks: webhooksSchema.nullable().default(null),
  feeds: feedsSchema.nullable().default(null),
  github: githubSchema.nullable().default(null),
  jira: jiraSchema.nullable().default(null),
  /** Limits of each plugin instance's thread. */
  instances: z
    .strictObject({
      memoryLimitMb: z.number().int().min(16).max(16_384).default(128),
      stallTimeoutSeconds: z.number().min(1).max(3600).default(10),
      startTimeoutSeconds: z.number().min(1).max(3600).default(30),
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
