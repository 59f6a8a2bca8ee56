// THIS FILE IS GENERATED from openapi/maubot.yaml by `npm run generate`. DO NOT EDIT IT BY HAND.

export interface paths {
  '/auth/login': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Get a management API token
     * @description Two ways to log in: the server's unshared secret (`secret`, optionally with `user`,
     *     default `root`), or an admin's `username` and `password`. The token never expires.
     *     The web UI and `mbc` only use username and password. Not subject to token auth.
     *     Where maubot fails with 500 for an admin username sent without a password, Switchboard
     *     answers 401 `invalid_auth`.
     */
    post: operations['login'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/ping': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Check a token and get the feature switches
     * @description Declared without security because the handler checks the token itself (from the
     *     Bearer header or the `access_token` query parameter). The UI calls this at start-up
     *     and uses `features` to decide which screens to show; on `auth_token_missing` or
     *     `auth_token_invalid` it drops its stored token. Always available.
     */
    post: operations['ping'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/features': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get the feature switches
     * @description No authentication needed. With a valid token the whole feature map is returned;
     *     otherwise only `{"login": <bool>}`, which the login page uses. The UI sends
     *     `Authorization: Bearer undefined` here before anyone has logged in.
     */
    get: operations['getFeatures'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/version': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get the maubot API version the server implements */
    get: operations['getVersion'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/debug/open': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Ask whether "open source file in editor" is available
     * @description The UI calls this on every dashboard load. maubot can run a local editor command when a
     *     log line is clicked; Switchboard never offers that, so it answers `{"enabled": false}`
     *     and has no `POST /debug/open`. Feature `dev_open`.
     */
    get: operations['getDebugOpen'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/logs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Stream logs over a websocket
     * @description A websocket endpoint; there is no HTTP authentication (the token travels inside the
     *     socket). Protocol:
     *
     *     1. After the upgrade the client sends its management token as a plain text frame.
     *     2. Valid token: the server sends `{"auth_success": true}`, then
     *        `{"history": [LogRecord, ...]}` with up to 2048 recent records, then one JSON
     *        `LogRecord` per message as records are produced. Sending the token again repeats the
     *        first two messages.
     *     3. Invalid token before authenticating: the server sends `{"auth_success": false}` and
     *        keeps the socket open.
     *     4. No valid token within 5 seconds: the server closes with code 4000. On shutdown every
     *        socket is closed with code 1012. Non-text frames are ignored.
     *
     *     Records are described by the `LogRecord` schema. `mbc logs` needs `time` with
     *     fractional seconds and a `+HH:MM` offset. Feature `log`.
     */
    get: operations['getLogs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/plugins': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List loaded plugins */
    get: operations['getPlugins'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/plugins/upload': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Upload a plugin archive
     * @description Adds a new plugin (201) or, when `allow_override` is set, replaces an existing one with
     *     the same id (200). A replacement loads the new code, then starts every enabled instance
     *     of the plugin; if loading fails the old version is restored. There is no version check,
     *     so downgrades are accepted. The web UI's "new plugin" page sends no `allow_override`;
     *     `mbc upload` sends `allow_override=true`. Feature `plugin_upload`.
     */
    post: operations['uploadPlugin'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/plugin/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
        id: components['parameters']['PluginId'];
      };
      cookie?: never;
    };
    /** Get one plugin */
    get: operations['getPlugin'];
    /**
     * Upload a plugin archive for this id
     * @description Like `POST /plugins/upload` with override always allowed, except that the id inside the
     *     archive must equal the path id (400 `pid_mismatch`). Unknown id: the plugin is added
     *     (201). The web UI uses this on an existing plugin's page. Feature `plugin_upload`.
     */
    put: operations['putPlugin'];
    post?: never;
    /**
     * Delete a plugin
     * @description All instances of the plugin must be deleted first. The archive is moved to the trash.
     */
    delete: operations['deletePlugin'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/plugin/{id}/reload': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
        id: components['parameters']['PluginId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Reload a plugin from its archive on disk
     * @description Stops the plugin's running instances, loads the archive file again and starts the
     *     enabled instances. On failure the instances stay stopped.
     */
    post: operations['reloadPlugin'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/instances': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List plugin instances */
    get: operations['getInstances'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/instance/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    /** Get one instance */
    get: operations['getInstance'];
    /**
     * Create or update an instance
     * @description Unknown id: creates the instance (needs `type` and `primary_user`; `enabled` defaults
     *     to true, `config` to ""; `started` is ignored), tries to start it and answers 201. If
     *     the plugin fails to start, the instance is silently disabled and the 201 body shows it.
     *     Known id: applies only the fields given, in the order `primary_user`, `id` (rename),
     *     `enabled`, `config`, `started`, `type`, and answers 200. `enabled` is a stored flag
     *     only; `started` starts or stops the instance. An unknown `type` on update is ignored.
     *     The UI sends the whole instance object back; extra fields are ignored.
     */
    put: operations['putInstance'];
    post?: never;
    /**
     * Delete an instance
     * @description Stops the instance and also deletes its database, if one was ever opened.
     */
    delete: operations['deleteInstance'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/instance/{id}/database': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    /**
     * Describe the tables of an instance's database
     * @description Answers HTTP 200 with an `Error` body (`plugin_has_no_database`) when the plugin has no
     *     database or the instance has never been started, so the 200 body is either the table
     *     map or an error.
     */
    get: operations['getInstanceDatabase'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/instance/{id}/database/{table}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
        /** @description The table name. */
        table: string;
      };
      cookie?: never;
    };
    /**
     * Read rows of one table
     * @description Selects rows of the table, optionally sorted. Unknown sort columns are dropped. Soft
     *     errors (`table_not_found`, `plugin_has_no_database`) come with HTTP 200. The web UI
     *     does not call this; it builds SELECT queries itself. maubot only serves this for legacy
     *     SQLAlchemy plugins and fails with 500 on a non-integer `limit`; Switchboard serves it
     *     for every database and answers 400 for a bad `limit`.
     */
    get: operations['getInstanceDatabaseTable'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/instance/{id}/database/query': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Run an SQL statement against an instance's database
     * @description A statement whose upper-cased text starts with `SELECT` returns rows (and `columns` when
     *     there is at least one row); any other statement is executed and returns `rowcount`
     *     (SQLite) or `status_msg` (Postgres). SQL errors answer 400 with `ok: false`, `query`,
     *     `error` and `errcode` `sql_error` (`sql_operational_error` / `sql_integrity_error` with
     *     `full_error` for legacy SQLAlchemy plugins). Soft errors (`plugin_has_no_database`,
     *     `unsupported_plugin_database`) come with HTTP 200. Where maubot fails with 500 on a
     *     non-JSON body, Switchboard answers 400 `body_not_json`.
     */
    post: operations['queryInstanceDatabase'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/clients': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List Matrix clients */
    get: operations['getClients'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/new': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Add a Matrix client from a homeserver URL and access token
     * @description The user id is taken from the homeserver's whoami answer for the token. Defaults:
     *     `enabled`, `sync`, `autojoin`, `online` true; `displayname` and `avatar_url`
     *     `"disable"`. The web UI never calls this (it uses `PUT /client/{id}`). Where maubot fails
     *     with 500 on a missing `homeserver`, Switchboard answers 400 `bad_client_access_details`.
     */
    post: operations['createClient'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    /** Get one client */
    get: operations['getClient'];
    /**
     * Create or update a client
     * @description Unknown id: creates the client like `POST /client/new`, but the token must belong to
     *     the path's user id (400 `mxid_mismatch`); answers 201. Known id: applies only the fields
     *     given and answers 200 (maubot's own spec says 202; the code answers 200). New access
     *     details are checked with whoami. `started` true/false starts or stops the client and
     *     its instances; `enabled` is only a stored flag. The UI uses this for create, save and
     *     start/stop, sending whole objects with extra keys. Where maubot fails with 500 when only
     *     one of `access_token`/`homeserver` is sent, Switchboard keeps the stored value of the
     *     other.
     */
    put: operations['putClient'];
    post?: never;
    /**
     * Delete a client
     * @description No instance may use the client as its primary user.
     */
    delete: operations['deleteClient'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/{id}/clearcache': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Clear the client's sync cache
     * @description Forgets the stored sync token and filter; a running client syncs again from scratch
     *     (a stopped one stays stopped, where maubot starts syncing it). POST, as maubot's code
     *     and UI use; maubot's own spec wrongly says PUT.
     */
    post: operations['clearClientCache'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/{id}/verify': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Verify the client's device with a recovery key
     * @description Uses the recovery key to fetch the account's cross-signing keys from secret storage and
     *     signs the client's device with them. Any failure, including a missing key or no
     *     encryption support, is 500 `internal_crypto_error`. Switchboard does not support
     *     end-to-end encryption for bot clients yet, so this always answers that error (after
     *     the 404 check).
     */
    post: operations['verifyClient'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/{id}/generate_recovery_key': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Set up cross-signing and get a new recovery key
     * @description Only for accounts that have no cross-signing keys yet. Switchboard does not support
     *     end-to-end encryption for bot clients yet, so this answers 500 `internal_crypto_error`
     *     (after the 404 check).
     */
    post: operations['generateClientRecoveryKey'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/auth/servers': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List homeservers configured for login and registration */
    get: operations['getAuthServers'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/auth/{server}/register': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A server name from `GET /client/auth/servers`. */
        server: components['parameters']['ServerName'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Register a new Matrix account
     * @description Uses Synapse's shared-secret admin registration, so it needs a `secret` for the server
     *     in the configuration and works on Synapse only. Without `update_client` the new
     *     account's credentials are returned (200); with it, a client is created from them (201).
     *     Homeserver errors answer 500 with the homeserver's `errcode`, `error` and `http_status`.
     */
    post: operations['registerClientAccount'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/auth/{server}/login': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A server name from `GET /client/auth/servers`. */
        server: components['parameters']['ServerName'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log in to a Matrix account, with a password or SSO
     * @description Password login (device id `maubot_` + 8 random characters, display name
     *     `device_name`): without `update_client` the credentials are returned (200); with it a
     *     client is created (201) or an existing one gets the new token, device and homeserver
     *     (202). With `sso` set, username and password are not needed; the answer is 200
     *     `{sso_url, id}`: open `sso_url` in a browser and call
     *     `POST /client/auth/{server}/sso/{id}/wait`. Homeserver errors are passed through with
     *     the homeserver's own status and `{errcode, error}`.
     */
    post: operations['loginClientAccount'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/auth/{server}/sso/{id}/wait': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A server name from `GET /client/auth/servers`. */
        server: components['parameters']['ServerName'];
        /** @description The SSO session id from the login call. */
        id: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Wait for an SSO login to finish
     * @description Long-polls until the browser reaches the completion URL, then logs in with the token and
     *     answers like the password login. `update_client` and `device_name` come from the login
     *     call that started SSO. The body is ignored (`mbc` sends `{}`). Where maubot fails with
     *     500 on an unknown session id, Switchboard answers 404 `resource_not_found`.
     */
    post: operations['waitForSso'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/client/auth_external_sso/complete/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The SSO session id. */
        id: string;
      };
      cookie?: never;
    };
    /**
     * SSO return page
     * @description The homeserver sends the user's browser here after SSO, with `loginToken`. No
     *     authentication. Answers short plain-text messages for a person to read.
     */
    get: operations['completeSso'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/proxy/{id}/{path}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
        /** @description The rest of the URL, must start with `_matrix/`, may contain slashes. */
        path: components['parameters']['ProxyPath'];
      };
      cookie?: never;
    };
    /**
     * Forward a GET to the client's homeserver
     * @description Forwards to `<client homeserver>/<path>` with the query string minus `access_token`,
     *     all headers but `Host`, and the client's own Matrix token as `Authorization`. The
     *     homeserver's status, headers and body come back unchanged. The UI loads avatars this
     *     way with `?access_token=`. Where maubot has no route (404) for a path outside
     *     `_matrix/`, Switchboard answers 400.
     */
    get: operations['proxyGet'];
    /**
     * Forward a PUT to the client's homeserver
     * @description Same as the GET form; the body is passed on as is. Where maubot has no route (404) for
     *     a path outside `_matrix/`, Switchboard answers 400.
     */
    put: operations['proxyPut'];
    /**
     * Forward a POST to the client's homeserver
     * @description Same as the GET form; the body is passed on as is. The UI uploads avatars with
     *     `POST /proxy/{id}/_matrix/media/v3/upload`. Where maubot has no route (404) for a path
     *     outside `_matrix/`, Switchboard answers 400.
     */
    post: operations['proxyPost'];
    /**
     * Forward a DELETE to the client's homeserver
     * @description Same as the GET form. Where maubot has no route (404) for a path outside `_matrix/`,
     *     Switchboard answers 400.
     */
    delete: operations['proxyDelete'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /**
     * @description An error. Some errors add fields, e.g. `stacktrace` (plugins), `ok` and `query` (SQL),
     *     `full_error` (legacy SQL), `http_status` (registration), `httpexception` (generic HTTP
     *     errors).
     */
    Error: {
      /** @description Human-readable message. */
      error: string;
      /** @description Machine-readable code, e.g. `plugin_not_found`. */
      errcode: string;
    } & {
      [key: string]: unknown;
    };
    /** @description An error about a plugin, usually with a traceback. */
    PluginError: components['schemas']['Error'] & {
      /** @description Traceback text from the plugin loader. */
      stacktrace?: string;
    };
    Plugin: {
      /** @example xyz.maubot.echo */
      id: string;
      /**
       * @description The plugin version in normalised PEP 440 form (e.g. `1.0.0b0`).
       * @example 1.4.0
       */
      version: string;
      instances: components['schemas']['Instance'][];
      /** @description Where the archive is stored on the server. */
      path?: string;
      /**
       * @description Which plugin runtime loads this plugin (a Switchboard field; maubot has none).
       * @enum {string}
       */
      loader: 'javascript' | 'python';
    };
    Instance: {
      /** @example echobot */
      id: string;
      /**
       * @description The plugin id.
       * @example xyz.maubot.echo
       */
      type: string;
      /** @description Stored flag; disabled instances are not started. */
      enabled: boolean;
      /** @description Whether the instance is running now. */
      started: boolean;
      /**
       * @description The Matrix user ID of the client the instance runs as.
       * @example @bot:example.com
       */
      primary_user: string;
      /** @description The instance configuration as a YAML string. */
      config: string;
      /**
       * @description The plugin's default configuration (YAML), known only for plugins with a config
       *     once the instance has been started. The UI shows the config editor only when set.
       */
      base_config: string | null;
      /** @description Whether the instance has an open database that the database endpoints can browse. */
      database: boolean;
      /** @description The plugin's database kind (`asyncpg`, `sqlalchemy`, `unknown`), or null if it has none. */
      database_interface: string | null;
      /** @description `sqlite` or `postgres` once chosen on first start, else null. */
      database_engine: string | null;
    };
    /**
     * @description Fields to set on an instance; absent fields are left alone. Extra fields (the UI sends
     *     the whole instance object) are ignored.
     */
    InstanceInput: {
      /** @description A new id (rename) when different from the path id; ignored on create. */
      id?: string;
      /** @description The plugin id. Required on create. */
      type?: string;
      /** @description The Matrix user ID of an existing client. Required on create. */
      primary_user?: string;
      enabled?: boolean;
      /** @description Start or stop the instance (update only). */
      started?: boolean;
      /** @description YAML configuration, stored as is. */
      config?: string;
    } & {
      [key: string]: unknown;
    };
    Client: {
      /**
       * @description The Matrix user ID.
       * @example @bot:example.com
       */
      id: string;
      /**
       * @description The homeserver's client-server API base URL.
       * @example https://matrix.example.com
       */
      homeserver: string;
      /** @description The client's Matrix access token, in clear. */
      access_token: string;
      /** @description The Matrix device ID; empty string if none (then encryption is off). */
      device_id: string;
      /** @description The device's Ed25519 fingerprint, or null without encryption. */
      fingerprint: string | null;
      /** @description Stored flag; disabled clients are not started. */
      enabled: boolean;
      /** @description Whether the client is running now. */
      started: boolean;
      /** @description Whether the client syncs (receives events). */
      sync: boolean;
      /** @description False after a failed sync until the next successful one. */
      sync_ok: boolean;
      /** @description Join rooms automatically when invited. */
      autojoin: boolean;
      /** @description Show as online while syncing. */
      online: boolean;
      /** @description Display name to set, or `disable` to leave the profile alone. */
      displayname: string;
      /** @description Avatar mxc URI to set, or `disable` to leave the profile alone. */
      avatar_url: string;
      /** @description The display name currently on the homeserver. */
      remote_displayname: string | null;
      /** @description The avatar currently on the homeserver. */
      remote_avatar_url: string | null;
      /** @description Instances that use this client as primary user. */
      instances: components['schemas']['Instance'][];
      /**
       * @description Trust of the client's own device: `blacklisted`, `unverified`, `unknown-device`,
       *     `forwarded`, `cross-signed-untrusted`, `cross-signed-tofu`, `cross-signed-trusted`,
       *     `verified`, or null.
       */
      trust_state: string | null;
    };
    /**
     * @description Fields to set on a client; absent fields are left alone. Extra fields (the UI sends the
     *     whole client object plus UI state such as `verifying`) are ignored. `homeserver` and
     *     `access_token` are needed to create a client.
     */
    ClientInput: {
      /** @description Ignored; the path or the token decides the user ID. */
      id?: string;
      homeserver?: string;
      access_token?: string;
      /** @description Must match the token's device if given; absent on update means keep. */
      device_id?: string;
      enabled?: boolean;
      /** @description Start or stop the client (PUT update only). */
      started?: boolean;
      sync?: boolean;
      autojoin?: boolean;
      online?: boolean;
      displayname?: string;
      avatar_url?: string;
    } & {
      [key: string]: unknown;
    };
    /**
     * @description The `api_features` switches. Without a valid token, `GET /features` returns only
     *     `login`.
     */
    Features: {
      login?: boolean;
      plugin?: boolean;
      plugin_upload?: boolean;
      instance?: boolean;
      instance_database?: boolean;
      client?: boolean;
      client_proxy?: boolean;
      client_auth?: boolean;
      dev_open?: boolean;
      log?: boolean;
    };
    /** @description Either `secret` (with optional `user`) or `username` and `password`. */
    LoginRequest: {
      /** @description The server's unshared secret. */
      secret?: string;
      /** @description The user to issue a token for with secret login (default `root`). */
      user?: string;
      username?: string;
      password?: string;
    } & {
      [key: string]: unknown;
    };
    Token: {
      /** @description The management API token. */
      token: string;
    };
    Ping: {
      /** @description The user the token belongs to. */
      username: string;
      features: components['schemas']['Features'];
    };
    Version: {
      /** @example 0.6.0 */
      version: string;
    };
    Success: {
      /** @enum {boolean} */
      success: true;
    };
    RecoveryKey: {
      /** @enum {boolean} */
      success: true;
      /** @description The new recovery key; shown once, store it safely. */
      recovery_key: string;
    };
    /**
     * @description Table name → its columns. Column details vary by engine: usually `type`, `nullable`,
     *     `default`, `primary`, and for some engines `unique`. (`nullable` may be a boolean or a
     *     `YES`/`NO` string.)
     */
    DatabaseTables: {
      [key: string]: {
        columns: {
          [key: string]: {
            [key: string]: unknown;
          };
        };
      };
    };
    QueryRequest: {
      /** @description The SQL statement. Missing → 400 `query_missing`. */
      query?: string;
      /**
       * @description Return each row as an object keyed by column instead of an array.
       * @default false
       */
      rows_as_dict: boolean;
    };
    QueryResult: {
      /** @enum {boolean} */
      ok: true;
      /** @description The statement that was run. */
      query: string;
      /** @description Rows of a SELECT, as arrays or (with `rows_as_dict`) objects. */
      rows?: (
        | unknown[]
        | {
            [key: string]: unknown;
          }
      )[];
      /** @description Column names; present when a SELECT returned rows. */
      columns?: string[];
      /** @description Rows affected by a non-SELECT statement (SQLite and legacy engines). */
      rowcount?: number;
      /** @description The Postgres command tag of a non-SELECT statement, e.g. `INSERT 0 1`. */
      status_msg?: string;
      /** @description Primary key of an inserted row (legacy SQLAlchemy plugins only). */
      inserted_primary_key?: unknown[];
    };
    /**
     * @description A homeserver's login or registration answer as maubot passes it on: `user_id`,
     *     `device_id`, `access_token`, `well_known`, then the homeserver's other keys (e.g.
     *     `home_server`).
     */
    MatrixCredentials: {
      /** @example @bot:example.com */
      user_id: string;
      access_token: string;
      /** @example maubot_F00BAR12 */
      device_id: string;
      /**
       * @description Discovery information, present on registration too. `m.homeserver` and
       *     `m.identity_server` are `{base_url}` as the homeserver sent them, or `{}`;
       *     `m.integrations` is always `{"managers": []}`.
       * @example {
       *       "m.homeserver": {
       *         "base_url": "https://matrix.example.com/"
       *       },
       *       "m.identity_server": {},
       *       "m.integrations": {
       *         "managers": []
       *       }
       *     }
       */
      well_known: {
        'm.homeserver': components['schemas']['DiscoveryServer'];
        'm.identity_server': components['schemas']['DiscoveryServer'];
        'm.integrations': {
          [key: string]: unknown;
        };
      } & {
        [key: string]: unknown;
      };
    } & {
      [key: string]: unknown;
    };
    DiscoveryServer: {
      base_url?: string;
    } & {
      [key: string]: unknown;
    };
    SsoStart: {
      /** @description Open this in a browser to log in. */
      sso_url: string;
      /** @description The session id for the wait call. */
      id: string;
    };
    /**
     * @description Server name → homeserver URL.
     * @example {
     *       "example.com": "https://matrix.example.com"
     *     }
     */
    ServerList: {
      [key: string]: string;
    };
    /** @description Body of the client-auth login and register calls. */
    ClientAuthRequest: {
      /** @description The account's localpart. Not needed with `sso`. */
      username?: string;
      /** @description Not needed with `sso`. */
      password?: string;
      /**
       * @description Display name of the new device (login only).
       * @default Maubot
       */
      device_name: string;
      /**
       * @description Synapse user type (register only).
       * @default bot
       */
      user_type: string;
    } & {
      [key: string]: unknown;
    };
    /**
     * @description One log line as sent over the `/logs` websocket. Extra fields from the logger may
     *     appear, notably `matrix_http_request` (`{req_id, method, path, content, user}`) on
     *     Matrix HTTP request logs.
     */
    LogRecord: {
      /** @description Logger name, e.g. `maubot.instance.<id>` or `maubot.client.<mxid>`. */
      name: string;
      /** @example INFO */
      levelname: string;
      /** @example 20 */
      levelno: number;
      module: string;
      pathname: string;
      filename: string;
      lineno: number;
      funcName: string;
      /**
       * @description Unique record id (milliseconds since logging started, as text).
       * @example 12345.678
       */
      id: string;
      /** @description The formatted message. */
      msg: string;
      /**
       * @description Local time, ISO 8601 with fractional seconds and a `+HH:MM` offset
       *     (e.g. `2026-01-02T03:04:05.123456+00:00`); `mbc logs` fails on other forms.
       */
      time: string;
      /** @description Formatted traceback, when the record has one. */
      exc_info?: string;
      matrix_http_request?: {
        [key: string]: unknown;
      };
    } & {
      [key: string]: unknown;
    };
  };
  responses: {
    /**
     * @description Bad request; usually `body_not_json` (the body is not a JSON object), or invalid
     *     parameters.
     */
    BadRequest: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description The request line and headers together are over 16 KiB (for example a very long path
     *     id). The HTTP server answers before any route, with no body, and closes the connection.
     */
    HeadersTooLarge: {
      headers: {
        [name: string]: unknown;
      };
      content?: never;
    };
    /** @description Token missing (`auth_token_missing`) or invalid (`auth_token_invalid`). */
    Unauthorized: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Not found (`resource_not_found`), e.g. because the feature is switched off. */
    NotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description No such plugin (`plugin_not_found`), or `resource_not_found` when the feature is off. */
    PluginNotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description No such instance (`instance_not_found`), or `resource_not_found` when the feature is off. */
    InstanceNotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description No such client (`client_not_found`), or `resource_not_found` when the feature is off. */
    ClientNotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description The body is over 100 MiB (`unhandled_http_413`). */
    PayloadTooLarge: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Unexpected server error (`internal_server_error`). */
    InternalError: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `plugin_invalid` (the archive is not a valid plugin; `error` says why and `stacktrace`
     *     has details), `pid_mismatch` (PUT only), or `unsupported_plugin_loader`.
     */
    PluginBadRequest: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['PluginError'];
      };
    };
    /** @description The plugin could not be (re)started (`plugin_reload_fail`, with `stacktrace`). */
    PluginReloadFailed: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['PluginError'];
      };
    };
    /**
     * @description The plugin needs a legacy SQLAlchemy database, which this server cannot provide
     *     (`unsupported_plugin_database`).
     */
    UnsupportedPluginDatabase: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `body_not_json`, `bad_client_access_token` (token rejected), `bad_client_access_details`
     *     (other homeserver error), `bad_client_connection_details` (homeserver unreachable), or
     *     `mxid_mismatch` (the token belongs to another user or device).
     */
    ClientBadRequest: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Encryption operation failed (`internal_crypto_error`). */
    CryptoError: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description An error from the homeserver, passed through with its own status. */
    HomeserverError: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description The path does not start with `_matrix/` (`proxy_path_invalid`). */
    ProxyBadPath: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description Whatever the homeserver answered (status, headers and body). A homeserver that cannot
     *     be reached gives 500 `internal_server_error`.
     */
    ProxiedResponse: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        '*/*': unknown;
      };
    };
  };
  parameters: {
    /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
    PluginId: string;
    /** @description The instance id. The server lower-cases it. */
    InstanceId: string;
    /**
     * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
     *     (the percent-encoded form is accepted too).
     */
    ClientId: string;
    /** @description A server name from `GET /client/auth/servers`. */
    ServerName: string;
    /** @description The rest of the URL, must start with `_matrix/`, may contain slashes. */
    ProxyPath: string;
    /**
     * @description `1`, `true` or `yes` (any case) stores the new login as a maubot client instead of
     *     returning the credentials.
     */
    UpdateClient: string;
    /** @description `1`, `true` or `yes` (any case) starts a single sign-on login. */
    Sso: string;
    /** @description The management token, used when there is no Bearer header. */
    AccessTokenQuery: string;
  };
  requestBodies: {
    /**
     * @description The plugin archive (.mbp, a zip file). maubot's UI and `mbc` send the raw zip as the
     *     body with `Content-Type: application/zip`; like maubot, any body that is not
     *     `multipart/form-data` is taken as the zip whatever its Content-Type, or without one
     *     (`curl --data-binary @x.mbp` sends `application/x-www-form-urlencoded`). A multipart
     *     form with the archive in a `file` field is accepted too (a Switchboard addition: one
     *     file part, at most 8 text fields of up to 1 KiB).
     */
    PluginArchive: {
      content: {
        'application/zip': Blob;
        'multipart/form-data': {
          /** Format: binary */
          file: Blob;
        };
      };
    };
    /** @description Any body; forwarded to the homeserver unchanged. */
    ProxyBody: {
      content: {
        '*/*': Blob;
      };
    };
  };
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  login: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['LoginRequest'];
      };
    };
    responses: {
      /** @description Logged in. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Token'];
        };
      };
      400: components['responses']['BadRequest'];
      /** @description Wrong secret or wrong username/password (`invalid_auth`). */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      404: components['responses']['NotFound'];
      413: components['responses']['PayloadTooLarge'];
      /**
       * @description Too many failed logins from this address or for this admin name within the
       *     configured window (`login_rate_limited`; a Switchboard addition: maubot has no
       *     limit). Checked before any password is compared, so the right password is refused
       *     too until the window passes.
       */
      429: {
        headers: {
          /** @description Seconds until another attempt is counted. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
    };
  };
  ping: {
    parameters: {
      query?: {
        /** @description The management token, used when there is no Bearer header. */
        access_token?: components['parameters']['AccessTokenQuery'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The token is valid. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Ping'];
        };
      };
      401: components['responses']['Unauthorized'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getFeatures: {
    parameters: {
      query?: {
        /** @description The management token, used when there is no Bearer header. */
        access_token?: components['parameters']['AccessTokenQuery'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The feature map (complete, or just `login`). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Features'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getVersion: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The version. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Version'];
        };
      };
      401: components['responses']['Unauthorized'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getDebugOpen: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Whether the editor helper is enabled. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            enabled: boolean;
          };
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getLogs: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Switching protocols to a websocket. */
      101: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description The request is not a websocket upgrade. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getPlugins: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every loaded plugin, in load order. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Plugin'][];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  uploadPlugin: {
    parameters: {
      query?: {
        /** @description Any non-empty value (even `false` or `0`) allows replacing an existing plugin. */
        allow_override?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: components['requestBodies']['PluginArchive'];
    responses: {
      /** @description An existing plugin was replaced. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Plugin'];
        };
      };
      /** @description A new plugin was added. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Plugin'];
        };
      };
      400: components['responses']['PluginBadRequest'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      /** @description A plugin with this id exists and `allow_override` was not given (`plugin_exists`). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['PluginReloadFailed'];
      501: components['responses']['UnsupportedPluginDatabase'];
    };
  };
  getPlugin: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
        id: components['parameters']['PluginId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The plugin. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Plugin'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['PluginNotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  putPlugin: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
        id: components['parameters']['PluginId'];
      };
      cookie?: never;
    };
    requestBody: components['requestBodies']['PluginArchive'];
    responses: {
      /** @description The existing plugin was replaced. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Plugin'];
        };
      };
      /** @description A new plugin was added. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Plugin'];
        };
      };
      400: components['responses']['PluginBadRequest'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['PluginReloadFailed'];
      501: components['responses']['UnsupportedPluginDatabase'];
    };
  };
  deletePlugin: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
        id: components['parameters']['PluginId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['PluginNotFound'];
      /** @description Instances of this plugin still exist (`plugin_in_use`). */
      412: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
    };
  };
  reloadPlugin: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The plugin id (case-sensitive), e.g. `xyz.maubot.echo`. */
        id: components['parameters']['PluginId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Reloaded. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Success'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['PluginNotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['PluginReloadFailed'];
    };
  };
  getInstances: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every instance. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Instance'][];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getInstance: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The instance. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Instance'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['InstanceNotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  putInstance: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['InstanceInput'];
      };
    };
    responses: {
      /** @description Updated. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Instance'];
        };
      };
      /** @description Created. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Instance'];
        };
      };
      /** @description `body_not_json`, or on create `plugin_type_required` / `primary_user_required`. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['Unauthorized'];
      /**
       * @description `primary_user_not_found` (no client with that id), `plugin_type_not_found` (create
       *     only), or `resource_not_found` when the feature is off.
       */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /**
       * @description A rename (`id`) to an id another instance has (`instance_exists`). maubot renames
       *     only the row and leaves the database behind; Switchboard moves the database and
       *     log name with it.
       */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['InternalError'];
    };
  };
  deleteInstance: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['InstanceNotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getInstanceDatabase: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The table map, or a soft error (`plugin_has_no_database`). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            components['schemas']['DatabaseTables'] | components['schemas']['Error'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['InstanceNotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getInstanceDatabaseTable: {
    parameters: {
      query?: {
        /** @description Sort key as `<column>:<asc|desc>`; may be repeated. */
        order?: string[];
        /** @description Maximum number of rows. */
        limit?: number;
      };
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
        /** @description The table name. */
        table: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The rows, or a soft error. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['QueryResult'] | components['schemas']['Error'];
        };
      };
      400: components['responses']['BadRequest'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['InstanceNotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['InternalError'];
    };
  };
  queryInstanceDatabase: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The instance id. The server lower-cases it. */
        id: components['parameters']['InstanceId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['QueryRequest'];
      };
    };
    responses: {
      /** @description The result, or a soft error. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['QueryResult'] | components['schemas']['Error'];
        };
      };
      /** @description `body_not_json`, `query_missing`, or an SQL error (`sql_error` and variants). */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['InstanceNotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getClients: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every client. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'][];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  createClient: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ClientInput'];
      };
    };
    responses: {
      /** @description Created. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      400: components['responses']['ClientBadRequest'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      /** @description A client for the token's user already exists (`user_exists`). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getClient: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The client. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  putClient: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ClientInput'];
      };
    };
    responses: {
      /** @description Updated. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /** @description Created. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      400: components['responses']['ClientBadRequest'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  deleteClient: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      /** @description Instances still use this client as primary user (`client_in_use`). */
      412: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
    };
  };
  clearClientCache: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Cleared. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Success'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  verifyClient: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description The account's recovery key. */
          recovery_key?: string;
        } & {
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description Verified. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Success'];
        };
      };
      400: components['responses']['BadRequest'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['CryptoError'];
    };
  };
  generateClientRecoveryKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Keys created. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RecoveryKey'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      /** @description The account already has cross-signing keys (`client_has_keys`). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['CryptoError'];
    };
  };
  getAuthServers: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Server name → client-server API URL. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ServerList'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      /** @description A configured server has no URL (`invalid_server`). */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  registerClientAccount: {
    parameters: {
      query?: {
        /**
         * @description `1`, `true` or `yes` (any case) stores the new login as a maubot client instead of
         *     returning the credentials.
         */
        update_client?: components['parameters']['UpdateClient'];
        /** @description `1`, `true` or `yes` (any case) starts a single sign-on login. */
        sso?: components['parameters']['Sso'];
      };
      header?: never;
      path: {
        /** @description A server name from `GET /client/auth/servers`. */
        server: components['parameters']['ServerName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ClientAuthRequest'];
      };
    };
    responses: {
      /** @description Registered; the credentials were not stored. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MatrixCredentials'];
        };
      };
      /** @description Registered and a client was created (`update_client`). */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /**
       * @description Registered, and the client that already had that user ID got the new token and
       *     device (`update_client`).
       */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /**
       * @description `body_not_json`, `username_or_password_missing`, `registration_no_sso` (`sso` was
       *     set), or a client-creation error with `update_client`.
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['Unauthorized'];
      /**
       * @description `server_not_found`, `registration_secret_not_found`, or `resource_not_found` when
       *     the feature is off.
       */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      /**
       * @description The homeserver refused (body has `http_status`), the server entry has no URL
       *     (`invalid_server`), or the homeserver could not be reached.
       */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  loginClientAccount: {
    parameters: {
      query?: {
        /**
         * @description `1`, `true` or `yes` (any case) stores the new login as a maubot client instead of
         *     returning the credentials.
         */
        update_client?: components['parameters']['UpdateClient'];
        /** @description `1`, `true` or `yes` (any case) starts a single sign-on login. */
        sso?: components['parameters']['Sso'];
      };
      header?: never;
      path: {
        /** @description A server name from `GET /client/auth/servers`. */
        server: components['parameters']['ServerName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ClientAuthRequest'];
      };
    };
    responses: {
      /** @description Logged in (credentials not stored), or SSO started (`sso`). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            components['schemas']['MatrixCredentials'] | components['schemas']['SsoStart'];
        };
      };
      /** @description Logged in and a client was created (`update_client`). */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /** @description Logged in and the existing client was updated (`update_client`). */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /**
       * @description `body_not_json`, `username_or_password_missing`, or a client error with
       *     `update_client`.
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description SSO requested but the homeserver does not offer it (`sso_not_supported`). */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `server_not_found`, or `resource_not_found` when the feature is off. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      /** @description The server entry has no URL (`invalid_server`) or the homeserver could not be reached. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      default: components['responses']['HomeserverError'];
    };
  };
  waitForSso: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A server name from `GET /client/auth/servers`. */
        server: components['parameters']['ServerName'];
        /** @description The SSO session id from the login call. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description Logged in; the credentials were not stored. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MatrixCredentials'];
        };
      };
      /** @description Logged in and a client was created. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /** @description Logged in and the existing client was updated. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Client'];
        };
      };
      /** @description A client error (with `update_client`), or `body_not_json`. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['Unauthorized'];
      404: components['responses']['NotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['InternalError'];
      default: components['responses']['HomeserverError'];
    };
  };
  completeSso: {
    parameters: {
      query?: {
        /** @description The login token issued by the homeserver. */
        loginToken?: string;
      };
      header?: never;
      path: {
        /** @description The SSO session id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Token received (or already received, or the login was cancelled). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description `loginToken` is missing. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /**
       * @description Unknown session id (plain text), or JSON `resource_not_found` when the feature is
       *     off.
       */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
          'application/json': components['schemas']['Error'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
      /** @description The session is in an unexpected state. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
    };
  };
  proxyGet: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
        /** @description The rest of the URL, must start with `_matrix/`, may contain slashes. */
        path: components['parameters']['ProxyPath'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      400: components['responses']['ProxyBadPath'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      431: components['responses']['HeadersTooLarge'];
      default: components['responses']['ProxiedResponse'];
    };
  };
  proxyPut: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
        /** @description The rest of the URL, must start with `_matrix/`, may contain slashes. */
        path: components['parameters']['ProxyPath'];
      };
      cookie?: never;
    };
    requestBody?: components['requestBodies']['ProxyBody'];
    responses: {
      400: components['responses']['ProxyBadPath'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      default: components['responses']['ProxiedResponse'];
    };
  };
  proxyPost: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
        /** @description The rest of the URL, must start with `_matrix/`, may contain slashes. */
        path: components['parameters']['ProxyPath'];
      };
      cookie?: never;
    };
    requestBody?: components['requestBodies']['ProxyBody'];
    responses: {
      400: components['responses']['ProxyBadPath'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      default: components['responses']['ProxiedResponse'];
    };
  };
  proxyDelete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The client's Matrix user ID, e.g. `@bot:example.com`, normally not percent-encoded
         *     (the percent-encoded form is accepted too).
         */
        id: components['parameters']['ClientId'];
        /** @description The rest of the URL, must start with `_matrix/`, may contain slashes. */
        path: components['parameters']['ProxyPath'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      400: components['responses']['ProxyBadPath'];
      401: components['responses']['Unauthorized'];
      404: components['responses']['ClientNotFound'];
      431: components['responses']['HeadersTooLarge'];
      default: components['responses']['ProxiedResponse'];
    };
  };
}
