/** Values that differ between the committed sample and a freshly generated config. */
export interface ConfigTemplateValues {
  unsharedSecret: string;
  provisioningSecret: string;
  encryptionKey: string;
  adminName: string;
  adminPassword: string;
}

export const SAMPLE_VALUES: ConfigTemplateValues = {
  unsharedSecret: 'replace-with-a-long-random-string',
  provisioningSecret: 'replace-with-another-long-random-string',
  encryptionKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  adminName: 'admin',
  adminPassword: 'replace-with-a-password',
};

/**
 * The documented configuration file. The committed config.sample.yaml is this with
 * SAMPLE_VALUES; a first start writes it with random secrets.
 */
export function renderConfig(v: ConfigTemplateValues): string {
  return `# Switchboard configuration.
# Secrets can also come from the environment: SWITCHBOARD_UNSHARED_SECRET,
# SWITCHBOARD_PROVISIONING_SECRET, SWITCHBOARD_ENCRYPTION_KEY, DATABASE_URL (database.url),
# SWITCHBOARD_DATA_DIR (dataDir), and SWITCHBOARD_PORT / SWITCHBOARD_BIND_ADDRESS (the first
# listener's port and address).

# Where the embedded database and other local state live (relative to the working directory).
# Only Switchboard's OS user may enter it (0700); its files are 0600.
dataDir: ./data

database:
  # A Postgres connection string (postgres://user:pass@host:5432/db). null: Switchboard runs its
  # own PostgreSQL server with its data in dataDir/postgres, which needs no setup (run as root,
  # that server runs as the OS user switchboard-db). One Switchboard per database or dataDir.
  url: null

server:
  # The URL users reach Switchboard at; its path is used for the web UI's paths.json.
  publicUrl: http://localhost:29316
  # Signs management API tokens and allows secret login (maubot's server.unshared_secret:
  # tokens issued by a maubot with the same secret stay valid). Use a long random string; a
  # secret shorter than 16 characters (kept from a maubot, say) works but is warned about.
  unsharedSecret: ${v.unsharedSecret}
  # A directory holding a build of maubot's web UI, served at /_matrix/maubot/. null: no UI.
  uiDirectory: null
  # What a response that breaks the API contract does: fail (answer 500) or log (send it anyway).
  responseValidation: fail
  # Failed management logins allowed per window, from one client address and for one admin
  # name; past either, POST /auth/login answers 429 with Retry-After.
  loginRateLimit:
    windowSeconds: 300
    perAddress: 20
    perUser: 10
  # Reverse proxies whose X-Forwarded-For header is believed: addresses, CIDR ranges, or
  # loopback, linklocal, uniquelocal. The client address (login limits, log socket limits,
  # request logs) is then the last one the proxies added. Empty: the TCP peer's address, so
  # behind a proxy every client shares the proxy's. Never list addresses clients connect from.
  trustedProxies: []

# Encrypts secrets stored in the database (Matrix and OAuth tokens). Base64 of 32 random bytes,
# e.g. from: openssl rand -base64 32. To rotate, put the old key in previousEncryptionKeys:
# stored secrets are re-encrypted with the new key at startup. A lost key cannot be recovered.
encryptionKey: ${v.encryptionKey}
previousEncryptionKeys: []

# HTTP listeners. Resources: maubot (management API and UI), provisioning (bridge provisioning
# API), webhooks (public webhook ingress), docs (API documentation at /docs), metrics.
listeners:
  - port: 29316
    bindAddress: 127.0.0.1
    resources: [maubot, provisioning, webhooks, docs, metrics]

# Management API users: name -> bcrypt hash. A plain-text password is hashed at startup and
# written back to this file. An empty value makes a user whose tokens are valid but who cannot
# log in with a password. "root" is always an admin and can only log in with unsharedSecret.
admins:
  ${v.adminName}: ${v.adminPassword}

# Which groups of management routes exist (maubot's api_features).
apiFeatures:
  login: true
  plugin: true
  plugin_upload: true
  instance: true
  instance_database: true
  client: true
  client_proxy: true
  client_auth: true
  dev_open: true
  log: true

# Homeservers bot accounts can log in to or register on: name -> {url, secret}. secret is the
# Synapse registration_shared_secret (null: registration disabled).
homeservers: {}
#  example.org:
#    url: https://matrix.example.org
#    secret: null

provisioning:
  # Integration managers send this as "Authorization: Bearer <secret>".
  secret: ${v.provisioningSecret}
  # The Matrix account that owns bridge connections: it writes their room state and posts
  # webhook, feed, GitHub and JIRA notices. Invite it to a room and give it Moderator (PL 50).
  botUserId: "@switchboard:localhost"
  # How the bot logs in: the homeserver and an access token of botUserId, or a password (logged
  # in once; the token is kept encrypted in the database). null: no bot, no connections.
  bot: null
  #  homeserver: https://matrix.example.org
  #  accessToken: syt_...
  #  password: null
  #  displayname: Switchboard
  # Who may do what (hookshot's model). actor: "*", a server name, a user ID, or a room ID
  # (its members). Levels: commands < login < notifications < manageConnections < admin.
  # Services: generic (webhooks), genericOutbound, feeds, github, jira, or "*". Invites to the
  # bot are accepted from users with at least "login" for some service. null: everyone on
  # botUserId's server is admin.
  permissions: null
  #  - actor: example.org
  #    services: [{ service: "*", level: admin }]

# Outbound webhooks and feeds refuse loopback, private and link-local destinations unless this
# is true (only for a trusted network).
allowPrivateDestinations: false

# Inbound/outbound webhook connections, served on the listener(s) with the webhooks resource at
# /webhook/<hookId>. null disables them.
webhooks: null
#  enabled: true
#  # Public base of hook URLs (the webhooks listener's public address + /webhook/).
#  urlPrefix: https://switchboard.example.org/webhook/
#  # JavaScript transformation functions, run in worker threads (QuickJS): each call is stopped
#  # after transformationTimeoutMs, has transformationMemoryMb of heap (its runner's memory is
#  # capped at that + 16 MB) and a result of at most transformationMaxResultBytes (as JSON).
#  # Calls of one hook run one at a time; posts get 503 (Retry-After: 5) while
#  # transformationQueuePerHook calls of that hook, or transformationQueueSize in all, wait.
#  allowJsTransformationFunctions: false
#  transformationTimeoutMs: 500
#  transformationMemoryMb: 16
#  transformationMaxResultBytes: 262144
#  transformationRunners: 2
#  transformationQueueSize: 64
#  transformationQueuePerHook: 16
#  # Answer webhook callers only after the message is in the room (else 202 at once).
#  waitForComplete: false
#  # Notices carry the payload (uk.half-shot.hookshot.webhook_data); a hook's includeHookBody
#  # overrides this.
#  includeHookBody: true
#  # Accept GET, with the query string as the payload.
#  enableHttpGet: false
#  # Outbound webhooks: room messages are sent to a URL.
#  outbound: false
#  # Longest lifetime of a new hook, e.g. "30d" (null: unlimited); require an expiry; warn the
#  # room once when less than 3 days remain.
#  maxExpiryTime: null
#  requireExpiryTime: false
#  sendExpiryNotice: false
#  maxBodyBytes: 1048576
#  # Webhook posts get 503 (Retry-After: 5) while this many messages, over all rooms, wait to be
#  # sent to the homeserver (it is slow or away); memory stays bounded.
#  maxPendingMessages: 100000

# RSS/Atom feed connections. null disables them.
feeds: null
#  enabled: true
#  pollIntervalSeconds: 600
#  pollConcurrency: 4
#  pollTimeoutSeconds: 30
#  # Time limit of the fetch that checks a new feed.
#  validationTimeoutSeconds: 5

# GitHub App (repository connections, events at /github/webhook on the webhooks listener) and
# user OAuth (callback at /github/oauth or /oauth there). null disables GitHub connections.
github: null
#  appId: 123456
#  privateKeyFile: /path/to/app.private-key.pem
#  webhookSecret: replace-with-the-app-webhook-secret
#  apiUrl: https://api.github.com        # GitHub Enterprise: https://github.example.org/api/v3
#  webUrl: https://github.com            # GitHub Enterprise: https://github.example.org
#  oauth:
#    clientId: Iv1.0123456789abcdef
#    clientSecret: replace-with-the-client-secret
#    redirectUri: https://switchboard.example.org/github/oauth

# JIRA Cloud: project connections (events at /jira/webhook on the webhooks listener, with
# ?secret=<webhookSecret> or an X-Hub-Signature) and OAuth 2.0 (3LO; callback at /jira/oauth).
# null disables JIRA connections.
jira: null
#  webhookSecret: replace-with-a-random-string
#  oauth:
#    clientId: replace-with-the-client-id
#    clientSecret: replace-with-the-client-secret
#    redirectUri: https://switchboard.example.org/jira/oauth

# Each plugin runs in a host process of its own (its instances are objects in it), under Node's
# permission model (see docs/plugins.md). A host is killed and logged when its resident memory
# (JavaScript heap, buffers and code) passes memoryLimitMb or when it does not respond for
# stallTimeoutSeconds (an endless loop); its instances start again after a delay that grows
# while it keeps failing. An instance whose start() takes longer than startTimeoutSeconds is
# disabled.
instances:
  memoryLimitMb: 256
  stallTimeoutSeconds: 10
  startTimeoutSeconds: 30
  # Per instance: Matrix and database calls, and log records, per second after a burst.
  # Beyond that they are refused (calls fail, records are dropped) with one warning per burst.
  callsPerSecond: 20
  callBurst: 100
  logRecordsPerSecond: 10
  logBurst: 50
  # When Switchboard runs as root, plugin hosts run as this user (a name from /etc/passwd, or
  # uid or uid:gid; never root), so a plugin cannot signal the server or read its files.
  # Otherwise they run as Switchboard's own user.
  hostUser: nobody
  # Each instance's database (a schema of its own, reached as a role of its own): every
  # statement, from the plugin's db.query or the web UI's database explorer, runs under these
  # limits. A statement running longer than statementTimeoutSeconds is cancelled; one whose
  # result has more than maxRows rows or takes more than maxResultMb is rolled back and fails.
  # Each instance has at most connectionsPerInstance sessions, all instances together
  # maxConnections (calls beyond wait, up to the statement timeout); a session unused for
  # idleSeconds is closed (each costs the database server about 1.5 MB).
  database:
    statementTimeoutSeconds: 5
    maxRows: 10000
    maxResultMb: 16
    connectionsPerInstance: 2
    maxConnections: 20
    idleSeconds: 10

logging:
  # fatal, error, warn, info, debug, trace or silent. Every request is logged: successful ones
  # at debug, rejected ones (4xx) at info, failed ones (5xx) at error.
  level: info
`;
}
