// THIS FILE IS GENERATED from openapi/provisioning.yaml by `npm run generate`. DO NOT EDIT IT BY HAND.

export interface paths {
  '/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Check that the provisioning API is up
     * @description Needs no secret. Any answer other than 200 `{}` means the API is not usable.
     *     A `userId` query parameter is accepted and ignored.
     */
    get: operations['health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/connectiontypes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List the connection types this server offers
     * @description A map from connection type name to its description, in the order JiraProject
     *     (when JIRA is configured), GithubRepo (when GitHub is configured), Webhook (when
     *     generic webhooks are configured). `botUserId` here is always the main bot.
     *     Types not listed (GitLab repo, feeds, outbound hooks) may still be creatable
     *     with PUT. `userId` is not needed; Dimension sends it anyway, so it is accepted
     *     and ignored.
     */
    get: operations['getConnectionTypes'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{roomId}/connections': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
      };
      cookie?: never;
    };
    /**
     * List the connections in a room
     * @description Needs read access: a bot must be in the room and the user must be joined.
     *     Items never carry `secrets`, except feeds, which always include
     *     `secrets.lastResults`. Items are sorted by priority, highest first. Connection
     *     kinds that cannot be described (GitHub issue/discussion/project/space, GitLab
     *     issue, Figma, ChallengeHound) are left out. There is no pagination.
     *
     *     A webhook item's `config` carries the hook `url` for users who may manage the
     *     room's webhooks (their power level reaches the webhook state event's level and
     *     they have the bridge permission `manageConnections` for `generic`): Dimension
     *     reads it there. Others never see it.
     *
     *     Dimension reads 403 `HS_NOT_IN_ROOM` on this route as "the room has no
     *     connections", so that errcode must be used whenever the bot or the user is
     *     not in the room. Upstream hung when no bot was in the room; this API answers
     *     403 `HS_NOT_IN_ROOM` "Bot is not joined to the room." instead. While the bot is
     *     not running (starting, homeserver unreachable) the answer is 503 `HS_UNKNOWN`,
     *     never `HS_NOT_IN_ROOM`: the room's connections are unknown, not absent.
     */
    get: operations['listConnections'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{roomId}/connections/{connectionIdOrType}': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
        /**
         * @description Connection id for GET/PATCH/DELETE, state event type for PUT. Connection ids
         *     are URL-safe opaque strings taken from a listing. Event types look like
         *     `uk.half-shot.matrix-hookshot.generic.hook`.
         */
        connectionIdOrType: components['parameters']['ConnectionIdOrType'];
      };
      cookie?: never;
    };
    /**
     * Get one connection
     * @description The path segment is the connection `id`. Needs read access. The item carries
     *     no `secrets` (feeds excepted: `secrets.lastResults`); a webhook's `config.url`
     *     is shown to users who may manage it, as in the listing.
     */
    get: operations['getConnection'];
    /**
     * Create a connection of the given state event type
     * @description Unlike the other methods on this path, PUT takes the **state event type** in
     *     the path (for example `uk.half-shot.matrix-hookshot.github.repository`), not a
     *     connection id. Legacy `uk.half-shot.matrix-github.*` types are accepted too.
     *     Any provisionable type may be created, including ones missing from
     *     `/connectiontypes`.
     *
     *     The body is the config of that type, validated by the server per type:
     *
     *     | event type | config schema |
     *     |---|---|
     *     | `uk.half-shot.matrix-hookshot.generic.hook` | `WebhookConnectionConfig` |
     *     | `uk.half-shot.matrix-hookshot.outbound-hook` | `OutboundHookConnectionConfig` |
     *     | `uk.half-shot.matrix-hookshot.github.repository` | `GithubRepoConnectionConfig` |
     *     | `uk.half-shot.matrix-hookshot.gitlab.repository` | `GitlabRepoConnectionConfig` |
     *     | `uk.half-shot.matrix-hookshot.jira.project` | `JiraProjectConnectionConfig` |
     *     | `uk.half-shot.matrix-hookshot.feed` | `FeedConnectionConfig` |
     *
     *     Checks, in order: roomId, write access (bot and user joined, both at or above the
     *     room's `state_default` power level, 50 when unset), known event type, command
     *     prefix clash (only when `commandPrefix` is given), a bot for the type's service
     *     in the room, the user's bridge permission `manageConnections` for that service,
     *     then the type's own validation and create step (which may need a GitHub, GitLab
     *     or JIRA login).
     *
     *     The answer is the new item **with** `secrets` (webhook URL, outbound token), plus
     *     `warning` when the create step has one. Secrets are shown only by PUT and PATCH.
     *     A webhook's URL is also in `config.url`, where Dimension reads it (never in the
     *     room state). A webhook created without a name, or with `null` or `""`, gets a
     *     generated one (`webhook-` and 8 hex digits); Dimension sends `{}` or
     *     `{"name": ""}` when its name field is left empty.
     *
     *     Integration managers invite the bot and send this request at once: when the bot
     *     is not in the room yet, the request waits for it (up to 2 seconds for the invite
     *     to reach the bot, then up to 10 seconds for its join) before answering 403
     *     `HS_NOT_IN_ROOM`.
     *
     *     Where upstream hung or answered 500, this API answers: unknown event type → 404
     *     `HS_NOTFOUND` "Unknown event type"; no bot in the room → 403 `HS_NOT_IN_ROOM`;
     *     invalid JSON or a non-object body → 400 `HS_BAD_VALUE`; outbound hook validation
     *     errors → 400 `HS_BAD_VALUE`; invalid JIRA URL or unknown GitLab instance → 400
     *     `HS_BAD_VALUE`; GitHub App not installed on the org/user → 400
     *     `HS_ADDITIONAL_ACTION_REQUIRED` with `installUrl`; a type that cannot be created
     *     or described (GitHub issue etc., Figma, ChallengeHound) → 400
     *     `HS_UNSUPPORTED_OPERATION`, with nothing written.
     */
    put: operations['createConnection'];
    post?: never;
    /**
     * Remove a connection
     * @description The path segment is the connection `id`. Needs write access. The connection's
     *     state event is replaced by a tombstone and side data is released (webhook
     *     hook ids, grants). The answer is always the JSON body `{"ok": true}`; Dimension
     *     needs a JSON body here.
     */
    delete: operations['deleteConnection'];
    options?: never;
    head?: never;
    /**
     * Update a connection's config
     * @description The path segment is the connection `id`. Needs write access. The body (see the
     *     per-type config schemas listed on PUT) is merged over the stored config, the
     *     result is validated again and written back under the same state key; changing
     *     identity fields (`name`, `org`/`repo`, `url`) does not move the connection,
     *     and a feed's `url` cannot be changed at all. For webhooks, leaving
     *     `expirationDate` out of the body removes the expiry, and the create-only expiry
     *     limits are not applied. The answer is the item **with** `secrets` (and a
     *     webhook's `config.url`).
     */
    patch: operations['updateConnection'];
    trace?: never;
  };
  '/github/oauth': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get the GitHub login and app-install URLs for a user
     * @description `user_url` starts the GitHub App user login; its `state` is remembered for
     *     30 minutes. `org_url` installs the GitHub App on an organisation or account, with a
     *     `state` of its own: when the App asks for user authorisation during installation,
     *     the install callback logs the user in too (Dimension offers only this link). When
     *     the App cannot be looked up, `org_url` is the login link. The answer is one object,
     *     not an array.
     */
    get: operations['getGithubOauthUrls'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/github/account': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
        /** @description Page number, starting at 1. */
        page?: components['parameters']['Page'];
        /** @description Entries per page (GitHub allows at most 100). */
        perPage?: components['parameters']['PerPage'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get the user's GitHub login state and app installations
     * @description Without a stored GitHub login the answer is `{"loggedIn": false}`. Otherwise
     *     it has `username` and `organisations`: the accounts (organisations, possibly
     *     the user's own) where the GitHub App is installed and visible to the user,
     *     one page at a time (`page`, `perPage`). `organisations` is always present when
     *     logged in.
     */
    get: operations['getGithubAccount'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/github/orgs/{orgName}/repositories': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
        /** @description Page number, starting at 1. */
        page?: components['parameters']['Page'];
        /** @description Entries per page (GitHub allows at most 100). */
        perPage?: components['parameters']['PerPage'];
      };
      header?: never;
      path: {
        /**
         * @description GitHub organisation login, or the user's own login for their personal
         *     account (compared case-sensitively).
         */
        orgName: string;
      };
      cookie?: never;
    };
    /**
     * List repositories the GitHub App can reach in an organisation
     * @description One page of the repositories of the App's installation on `orgName`, as seen
     *     with the user's token. Keep asking for the next page until fewer than
     *     `perPage` items come back. `changeSelectionUrl` is present when the
     *     installation covers only selected repositories.
     */
    get: operations['listGithubOrgRepositories'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/github/repositories': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
        /** @description Page number, starting at 1. */
        page?: components['parameters']['Page'];
        /** @description Entries per page (GitHub allows at most 100). */
        perPage?: components['parameters']['PerPage'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List repositories the GitHub App can reach in the user's own account
     * @description Like the organisation listing, but for the App's installation on the user's
     *     personal account only (not all of their organisations). 403
     *     `HS_FORBIDDEN_USER` "Not logged in" without a GitHub login.
     */
    get: operations['listGithubRepositories'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jira/oauth': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get the JIRA login URL for a user
     * @description Atlassian Cloud: an OAuth 2.0 (3LO) authorisation URL. JIRA Server / Data
     *     Center (OAuth 1.0a) is not supported. Its `state` is remembered for 30 minutes
     *     and is good for one login. When JIRA OAuth is not configured the answer is 500
     *     `HS_DISABLED_FEATURE` "JIRA OAuth is disabled." (upstream hung).
     */
    get: operations['getJiraOauthUrl'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jira/account': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get the user's JIRA login state and instances
     * @description Without a stored JIRA login the answer is `{"loggedIn": false}`. Otherwise
     *     `instances` lists the JIRA sites the login can reach. 500 `HS_DISABLED_FEATURE`
     *     when JIRA OAuth is not configured (upstream hung); 500 `HS_UNKNOWN` "Could not
     *     fetch accessible resources for JIRA user." when Atlassian fails.
     */
    get: operations['getJiraAccount'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jira/instances/{instanceName}/projects': {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /** @description The JIRA instance `name` as listed by `/jira/account` (for example `acme`). */
        instanceName: string;
      };
      cookie?: never;
    };
    /**
     * List the projects the user can see in a JIRA instance
     * @description All projects in one answer (no pagination). A project's `url` can be used as
     *     the `url` of a new JIRA project connection. 403 `HS_FORBIDDEN_USER` "Not logged
     *     in" without a JIRA login, or "Instance not known or not accessible to this
     *     user." for an unknown instance name.
     */
    get: operations['listJiraProjects'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @description Every error body. Extra keys may be present. */
    Error: {
      /**
       * @description Machine-readable code. Default HTTP statuses: HS_UNKNOWN 500 (503 when the
       *     bridge is unavailable), HS_NOTFOUND
       *     404, HS_UNSUPPORTED_OPERATION 400, HS_FORBIDDEN_USER 403, HS_FORBIDDEN_BOT
       *     403, HS_NOT_IN_ROOM 403, HS_BAD_VALUE 400, HS_BAD_TOKEN 401,
       *     HS_DISABLED_FEATURE 500, HS_ADDITIONAL_ACTION_REQUIRED 400,
       *     HS_CONFLICTING_CONNECTION 409, HS_METHOD_NOT_ALLOWED 405, HS_UNROUTABLE 400.
       * @enum {string}
       */
      errcode:
        | 'HS_UNKNOWN'
        | 'HS_NOTFOUND'
        | 'HS_UNSUPPORTED_OPERATION'
        | 'HS_FORBIDDEN_USER'
        | 'HS_FORBIDDEN_BOT'
        | 'HS_NOT_IN_ROOM'
        | 'HS_BAD_VALUE'
        | 'HS_BAD_TOKEN'
        | 'HS_DISABLED_FEATURE'
        | 'HS_ADDITIONAL_ACTION_REQUIRED'
        | 'HS_CONFLICTING_CONNECTION'
        | 'HS_METHOD_NOT_ALLOWED'
        | 'HS_UNROUTABLE';
      /** @description Human-readable message. */
      error: string;
      /** @description Schema validation failures (GitHub and GitLab repo configs). */
      validationErrors?: {
        message: string;
        /** @description JSON pointer into the body ('' for the root). */
        path: string;
      }[];
      existingConnection?: components['schemas']['ConnectionItem'];
      /** @description Where to install the GitHub App (with HS_ADDITIONAL_ACTION_REQUIRED). */
      installUrl?: string;
    } & {
      [key: string]: unknown;
    };
    /** @description Always the empty object. */
    Health: Record<string, never>;
    Ok: {
      /** @enum {boolean} */
      ok: true;
    };
    ConnectionType: {
      /** @description Connection type name, e.g. `JiraProject`, `GithubRepo`, `Webhook`. */
      type: string;
      /** @description Canonical state event type, used in the PUT path. */
      eventType: string;
      /** @description Service name for display, e.g. `jira`, `github`, `generic`. */
      service: string;
      /** @description Matrix ID of the bridge's main bot. */
      botUserId: string;
    };
    /** @description Map from connection type name to its description. */
    ConnectionTypes: {
      [key: string]: components['schemas']['ConnectionType'];
    };
    ConnectionItem: {
      /**
       * @description Connection type name (`Webhook`, `GithubRepo`, `GitLabRepo`, `JiraProject`,
       *     `Feed`; outbound hooks also report `Webhook`).
       */
      type: string;
      /** @description Canonical state event type, even if the state uses a legacy type. */
      eventType: string;
      /**
       * @description Service category: `github`, `gitlab`, `jira`, `generic`, `genericOutbound`,
       *     `feeds`, `figma` or `challengehound`.
       */
      service: string;
      /** @description Matrix ID of the bot that owns this connection (may be a service bot). */
      botUserId: string;
      /**
       * @description Opaque, URL-safe connection id used in GET/PATCH/DELETE paths. Do not assume
       *     it is stable.
       */
      id: string;
      /**
       * @description The connection's config; its shape depends on the type (see the
       *     `*ConnectionConfig` schemas).
       */
      config: {
        [key: string]: unknown;
      };
      /**
       * @description Only in PUT and PATCH answers (feeds: always). Shape depends on the type:
       *     `WebhookSecrets`, `OutboundHookSecrets`, `FeedSecrets`.
       */
      secrets?: {
        [key: string]: unknown;
      };
      /** @description A non-fatal problem found while creating (PUT only). */
      warning?: {
        header: string;
        message: string;
      };
      /** @description Not set by this API. */
      canEdit?: boolean;
      /** @description Not set by this API. */
      canSendMessages?: boolean;
    };
    ConnectionList: components['schemas']['ConnectionItem'][];
    /** @description Inbound generic webhook (`uk.half-shot.matrix-hookshot.generic.hook`). The state key is `name`. */
    WebhookConnectionConfig: {
      /**
       * @description Name of the hook (the state key). On create, an absent, `null` or empty name
       *     gets a generated one (`webhook-` and 8 hex digits).
       */
      name: string;
      /**
       * @description JavaScript run on each payload, as hookshot runs it: a function body (a
       *     top-level `return` ends it) that reads `data` and sets `result`. Only allowed
       *     when the server enables JS transformations (else 500 HS_DISABLED_FEATURE); a
       *     body that does not compile is 400 HS_BAD_VALUE "Could not compile
       *     transformation function: ..."; an empty string means none.
       */
      transformationFunction?: string | null;
      /** @description Answer the webhook caller only after the message is handled. Shown as false when unset. */
      waitForComplete?: boolean;
      /**
       * Format: date-time
       * @description When the hook stops working: ISO 8601 with milliseconds and `Z` or `±hhmm`,
       *     e.g. `2030-01-01T00:00:00.000Z`. On create it must be at least an hour ahead
       *     and within the server's maximum.
       */
      expirationDate?: string;
      /**
       * @description Whether notices carry the payload as `uk.half-shot.hookshot.webhook_data`; absent
       *     means the server's `webhooks.includeHookBody` (default true).
       */
      includeHookBody?: boolean;
      /**
       * @description false asks clients not to show URL previews of the notices
       *     (`com.beeper.linkpreviews: []`). A Switchboard extension for webhooks (hookshot has
       *     it for other connection types).
       */
      showUrlPreviews?: boolean;
      priority?: number;
      commandPrefix?: string;
      /**
       * @description The hook URL, in answers only (Dimension reads it here): PUT and PATCH answers,
       *     and items listed for users who may manage the room's webhooks. Never in the
       *     room state; ignored in request bodies.
       */
      readonly url?: string;
    };
    WebhookSecrets: {
      /** @description The URL to send webhook payloads to. */
      url: string;
      /** @description The random id in that URL. */
      hookId: string;
      /** @description Milliseconds until the hook expires; absent when it never expires. */
      timeRemainingMs?: number;
    };
    /** @description Outbound webhook (`uk.half-shot.matrix-hookshot.outbound-hook`). The state key is `name`. */
    OutboundHookConnectionConfig: {
      name: string;
      /** @description An http or https URL that receives each room event. */
      url: string;
      /**
       * @default PUT
       * @enum {string}
       */
      method: 'PUT' | 'POST';
    };
    OutboundHookSecrets: {
      /** @description Sent as `X-Matrix-Hookshot-Token` with each request (`hs-ob-<uuid>`). */
      token: string;
    };
    /** @description RSS/Atom feed (`uk.half-shot.matrix-hookshot.feed`). The state key is `url`. */
    FeedConnectionConfig: {
      /** @description Feed URL. It is fetched once on create and cannot be changed later. */
      url: string;
      label?: string;
      /** @description Message template using tokens such as `$FEEDNAME`, `$TITLE`, `$LINK`. */
      template?: string;
      /** @description Post one message to the room when fetching starts failing. */
      notifyOnFailure?: boolean;
    };
    FeedSecrets: {
      /** @description The most recent fetch results (about five). */
      lastResults: {
        /** @description Time of the fetch in ms since the epoch. */
        timestamp: number;
        ok: boolean;
        error?: string;
      }[];
    };
    /** @enum {string} */
    GithubRepoHookEvent:
      | 'issue'
      | 'issue.changed'
      | 'issue.created'
      | 'issue.edited'
      | 'issue.labeled'
      | 'issue.comment'
      | 'issue.comment.created'
      | 'pull_request'
      | 'pull_request.closed'
      | 'pull_request.merged'
      | 'pull_request.opened'
      | 'pull_request.ready_for_review'
      | 'pull_request.reviewed'
      | 'push'
      | 'release'
      | 'release.created'
      | 'release.drafted'
      | 'workflow'
      | 'workflow.run'
      | 'workflow.run.success'
      | 'workflow.run.failure'
      | 'workflow.run.neutral'
      | 'workflow.run.cancelled'
      | 'workflow.run.timed_out'
      | 'workflow.run.action_required'
      | 'workflow.run.stale';
    /**
     * @description GitHub repository (`uk.half-shot.matrix-hookshot.github.repository`). The state
     *     key is `<org>/<repo>` as given. Unknown keys are kept. Creating one needs a
     *     GitHub login with write or admin access to the repository, and the GitHub App
     *     installed on its owner.
     */
    GithubRepoConnectionConfig: {
      org: string;
      repo: string;
      priority?: number;
      /**
       * @description Events to post. Default: issue, issue.changed, issue.created, issue.edited,
       *     issue.labeled, pull_request, pull_request.closed, pull_request.merged,
       *     pull_request.opened, pull_request.ready_for_review, pull_request.reviewed,
       *     release.created.
       */
      enableHooks?: components['schemas']['GithubRepoHookEvent'][];
      /**
       * @deprecated
       * @description Legacy field; rejected on create and update.
       */
      ignoreHooks?: string[];
      /** @description Prefix for in-room commands (default `!gh`). */
      commandPrefix?: string;
      showIssueRoomLink?: boolean;
      prDiff?: {
        enabled: boolean;
        maxLines?: number;
      };
      newIssue?: {
        labels: string[];
      };
      includingLabels?: string[];
      excludingLabels?: string[];
      /** @description Turn `#123` mentions into links; an object sets a custom prefix. */
      hotlinkIssues?:
        | boolean
        | {
            prefix: string;
          };
      workflowRun?: {
        /** @description Regular expression for branch names. */
        matchingBranch?: string;
        includingWorkflows?: string[];
        excludingWorkflows?: string[];
      };
    } & {
      [key: string]: unknown;
    };
    /**
     * @description GitLab project (`uk.half-shot.matrix-hookshot.gitlab.repository`). The state key
     *     is `<instance>/<path>`. Unknown keys are kept. Creating one needs a GitLab login
     *     with at least Developer access.
     */
    GitlabRepoConnectionConfig: {
      /** @description Name of a GitLab instance configured on the server. */
      instance: string;
      /** @description Project path, e.g. `group/project`. */
      path: string;
      priority?: number;
      /** @description Events to post; default all. */
      enableHooks?: (
        | 'merge_request'
        | 'merge_request.open'
        | 'merge_request.reopen'
        | 'merge_request.close'
        | 'merge_request.merge'
        | 'merge_request.review'
        | 'merge_request.review.individual'
        | 'merge_request.ready_for_review'
        | 'merge_request.review.comments'
        | 'tag_push'
        | 'push'
        | 'wiki'
        | 'release'
        | 'release.created'
      )[];
      /**
       * @deprecated
       * @description Legacy field; rejected on create.
       */
      ignoreHooks?: string[];
      /** @description Prefix for in-room commands (default `!gl`). */
      commandPrefix?: string;
      pushTagsRegex?: string;
      includingLabels?: string[];
      excludingLabels?: string[];
      includeCommentBody?: boolean;
    } & {
      [key: string]: unknown;
    };
    /**
     * @description JIRA project (`uk.half-shot.matrix-hookshot.jira.project`). The state key is
     *     `url` as given. Creating one needs a JIRA login that can see the project.
     */
    JiraProjectConnectionConfig: {
      /** @description Project URL whose last path segment is the project key, e.g. `https://acme.atlassian.net/projects/PLAY`. */
      url: string;
      /** @description JIRA project id; needed to receive version events. */
      id?: string;
      /** @description Prefix for in-room commands (default `!jira`). */
      commandPrefix?: string;
      /** @description Events to post; default `["issue_created"]`. */
      events?: (
        | 'issue_created'
        | 'issue_updated'
        | 'version_created'
        | 'version_updated'
        | 'version_released'
      )[];
      priority?: number;
    };
    GithubOauthUrls: {
      /** @description GitHub authorisation URL that logs the user in to the bridge. */
      user_url: string;
      /**
       * @description Installs the GitHub App: `https://github.com/apps/<slug>/installations/new?state=…`
       *     (the login link when the App cannot be looked up).
       */
      org_url: string;
    };
    GithubAccount: {
      loggedIn: boolean;
      /** @description The user's GitHub login (present when logged in). */
      username?: string;
      /** @description Accounts where the GitHub App is installed and visible to the user (present when logged in). */
      organisations?: {
        name: string;
        avatarUrl: string;
      }[];
    };
    GithubRepositoryList: {
      /** @description The page that was returned. */
      page: number;
      repositories: {
        name: string;
        /** @description Owner login. */
        owner: string;
        /** @description `owner/name`. */
        fullName: string;
        /** @description The owner's avatar. */
        avatarUrl: string;
        description: string | null;
      }[];
      /** @description Present when the App can reach only selected repositories; where to change that selection. */
      changeSelectionUrl?: string;
    };
    JiraOauthUrl: {
      /** @description Where to send the user to log in to JIRA. */
      url: string;
    };
    JiraAccount: {
      loggedIn: boolean;
      /** @description Present when logged in. */
      instances?: {
        /** @description Instance name, used in `/jira/instances/{instanceName}/projects`. */
        name: string;
        url: string;
        /** @description Atlassian cloud id; upstream did not send it. */
        id?: string;
      }[];
    };
    JiraProject: {
      key: string;
      name: string;
      id: string;
      /** @description `<instance url>/projects/<key>`; usable as a JIRA connection `url`. */
      url: string;
    };
  };
  responses: {
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
    /** @description Missing or wrong provisioning secret (`HS_BAD_TOKEN`). */
    BadToken: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        /**
         * @example {
         *       "errcode": "HS_BAD_TOKEN",
         *       "error": "Unauthorized"
         *     }
         */
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Bad input such as an invalid `userId` or `roomId` (`HS_BAD_VALUE`). */
    BadValue: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description Not allowed. `HS_NOT_IN_ROOM`: the bot or the user could not be confirmed as
     *     joined to the room (also used when no bot serves the connection's service in
     *     the room). `HS_FORBIDDEN_BOT`: the bot's power level is below what is needed.
     *     `HS_FORBIDDEN_USER`: the user's power level or bridge permission is too low, or
     *     the user lacks a needed GitHub/GitLab/JIRA login or remote access.
     */
    Forbidden: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `HS_NOTFOUND`: no such connection in this room ("Connection does not exist."),
     *     or the route's service is not configured.
     */
    NotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        /**
         * @example {
         *       "errcode": "HS_NOTFOUND",
         *       "error": "Connection does not exist."
         *     }
         */
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `HS_CONFLICTING_CONNECTION`: another connection in the room already uses the
     *     requested `commandPrefix`, or the same GitLab project is already connected.
     *     `existingConnection` holds the clashing connection.
     */
    Conflict: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        /**
         * @example {
         *       "errcode": "HS_CONFLICTING_CONNECTION",
         *       "error": "Command prefix \"!gh\" is already used in this room. Please choose another prefix.",
         *       "existingConnection": {
         *         "type": "GithubRepo",
         *         "eventType": "uk.half-shot.matrix-hookshot.github.repository",
         *         "service": "github",
         *         "botUserId": "@hookshot:example.org",
         *         "id": "0cc175b9c0f1b6a831c399e269772661",
         *         "config": {
         *           "org": "matrix-org",
         *           "repo": "matrix-hookshot"
         *         }
         *       }
         *     }
         */
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description The body is over the server's size limit (100 kB by default); errcode `HS_BAD_VALUE`. */
    PayloadTooLarge: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        /**
         * @example {
         *       "errcode": "HS_BAD_VALUE",
         *       "error": "Request body is too large"
         *     }
         */
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `HS_DISABLED_FEATURE`: a feature the request needs is switched off (for example
     *     JIRA OAuth, JS transformation functions, feeds, or no provisioning bot is
     *     configured). Other unexpected failures on the same route also use status 500,
     *     with `HS_UNKNOWN`.
     */
    DisabledFeature: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `HS_UNKNOWN`: an unexpected failure, e.g. a remote service failed.
     *     `HS_DISABLED_FEATURE`: no provisioning bot is configured, so no room can be served.
     */
    Unknown: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description `HS_UNKNOWN` with status 503: the bridge cannot act in rooms right now because its
     *     Matrix bot is not running (it is starting, or the homeserver cannot be reached).
     *     Try again later; `/ready` shows the bot's state. Never answered as
     *     `HS_NOT_IN_ROOM`, which Dimension would read as "no connections".
     */
    BridgeUnavailable: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        /**
         * @example {
         *       "errcode": "HS_UNKNOWN",
         *       "error": "The bridge is unavailable: its Matrix bot is not running (starting, or the homeserver cannot be reached). Try again later."
         *     }
         */
        'application/json': components['schemas']['Error'];
      };
    };
  };
  parameters: {
    /**
     * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
     *     (percent-encoded or raw). It must contain `@`, then at least one
     *     character, `:`, and at least one character (an unanchored match); otherwise the
     *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
     * @example @alice:example.org
     */
    UserId: string;
    /** @description Accepted for client compatibility and ignored; not validated. */
    IgnoredUserId: string;
    /**
     * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
     *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
     *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
     * @example !abc:example.org
     */
    RoomId: string;
    /**
     * @description Connection id for GET/PATCH/DELETE, state event type for PUT. Connection ids
     *     are URL-safe opaque strings taken from a listing. Event types look like
     *     `uk.half-shot.matrix-hookshot.generic.hook`.
     */
    ConnectionIdOrType: string;
    /** @description Page number, starting at 1. */
    Page: number;
    /** @description Entries per page (GitHub allows at most 100). */
    PerPage: number;
  };
  requestBodies: {
    /**
     * @description The config of the connection type named in the path (PUT) or of the existing
     *     connection (PATCH): one of `WebhookConnectionConfig`,
     *     `OutboundHookConnectionConfig`, `GithubRepoConnectionConfig`,
     *     `GitlabRepoConnectionConfig`, `JiraProjectConnectionConfig`,
     *     `FeedConnectionConfig`. The server validates it per type. It must be a JSON
     *     object; a missing body counts as `{}`.
     */
    ConnectionConfig: {
      content: {
        'application/json': {
          [key: string]: unknown;
        };
      };
    };
  };
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  health: {
    parameters: {
      query?: {
        /** @description Accepted for client compatibility and ignored; not validated. */
        userId?: components['parameters']['IgnoredUserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The API is up. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /** @example {} */
          'application/json': components['schemas']['Health'];
        };
      };
      431: components['responses']['HeadersTooLarge'];
    };
  };
  getConnectionTypes: {
    parameters: {
      query?: {
        /** @description Accepted for client compatibility and ignored; not validated. */
        userId?: components['parameters']['IgnoredUserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The enabled connection types. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "JiraProject": {
           *         "type": "JiraProject",
           *         "eventType": "uk.half-shot.matrix-hookshot.jira.project",
           *         "service": "jira",
           *         "botUserId": "@hookshot:example.org"
           *       },
           *       "GithubRepo": {
           *         "type": "GithubRepo",
           *         "eventType": "uk.half-shot.matrix-hookshot.github.repository",
           *         "service": "github",
           *         "botUserId": "@hookshot:example.org"
           *       },
           *       "Webhook": {
           *         "type": "Webhook",
           *         "eventType": "uk.half-shot.matrix-hookshot.generic.hook",
           *         "service": "generic",
           *         "botUserId": "@hookshot:example.org"
           *       }
           *     }
           */
          'application/json': components['schemas']['ConnectionTypes'];
        };
      };
      401: components['responses']['BadToken'];
      431: components['responses']['HeadersTooLarge'];
    };
  };
  listConnections: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The room's connections. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ConnectionList'];
        };
      };
      400: components['responses']['BadValue'];
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
      503: components['responses']['BridgeUnavailable'];
    };
  };
  getConnection: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
        /**
         * @description Connection id for GET/PATCH/DELETE, state event type for PUT. Connection ids
         *     are URL-safe opaque strings taken from a listing. Event types look like
         *     `uk.half-shot.matrix-hookshot.generic.hook`.
         */
        connectionIdOrType: components['parameters']['ConnectionIdOrType'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The connection. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ConnectionItem'];
        };
      };
      /**
       * @description `HS_BAD_VALUE` "Invalid userId" or "Invalid roomId"; or
       *     `HS_UNSUPPORTED_OPERATION` when the connection exists but its kind cannot
       *     be described.
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
      503: components['responses']['BridgeUnavailable'];
    };
  };
  createConnection: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
        /**
         * @description Connection id for GET/PATCH/DELETE, state event type for PUT. Connection ids
         *     are URL-safe opaque strings taken from a listing. Event types look like
         *     `uk.half-shot.matrix-hookshot.generic.hook`.
         */
        connectionIdOrType: components['parameters']['ConnectionIdOrType'];
      };
      cookie?: never;
    };
    requestBody?: components['requestBodies']['ConnectionConfig'];
    responses: {
      /** @description The created connection, with secrets and any warning. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "type": "Webhook",
           *       "eventType": "uk.half-shot.matrix-hookshot.generic.hook",
           *       "service": "generic",
           *       "botUserId": "@hookshot:example.org",
           *       "id": "5d41402abc4b2a76b9719d911017c592",
           *       "config": {
           *         "name": "alerts",
           *         "url": "https://hooks.example.org/webhook/2f0e6f4e-9d9b-4c57-8f0e-0b6f0a6b3c21"
           *       },
           *       "secrets": {
           *         "url": "https://hooks.example.org/webhook/2f0e6f4e-9d9b-4c57-8f0e-0b6f0a6b3c21",
           *         "hookId": "2f0e6f4e-9d9b-4c57-8f0e-0b6f0a6b3c21"
           *       }
           *     }
           */
          'application/json': components['schemas']['ConnectionItem'];
        };
      };
      /**
       * @description `HS_BAD_VALUE`: invalid userId/roomId, invalid JSON, a body that is not an
       *     object, or a config that fails validation (schema failures carry
       *     `validationErrors`). `HS_ADDITIONAL_ACTION_REQUIRED`: the GitHub App must be
       *     installed first (`installUrl` says where). `HS_UNSUPPORTED_OPERATION`: the
       *     type cannot be provisioned through this API.
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      /** @description `HS_NOTFOUND` "Unknown event type": no connection type uses this event type. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "errcode": "HS_NOTFOUND",
           *       "error": "Unknown event type"
           *     }
           */
          'application/json': components['schemas']['Error'];
        };
      };
      409: components['responses']['Conflict'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['DisabledFeature'];
      503: components['responses']['BridgeUnavailable'];
    };
  };
  deleteConnection: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
        /**
         * @description Connection id for GET/PATCH/DELETE, state event type for PUT. Connection ids
         *     are URL-safe opaque strings taken from a listing. Event types look like
         *     `uk.half-shot.matrix-hookshot.generic.hook`.
         */
        connectionIdOrType: components['parameters']['ConnectionIdOrType'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The connection is gone. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "ok": true
           *     }
           */
          'application/json': components['schemas']['Ok'];
        };
      };
      /**
       * @description `HS_BAD_VALUE` "Invalid userId" or "Invalid roomId"; or
       *     `HS_UNSUPPORTED_OPERATION` "Connection does not support removal."
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
      503: components['responses']['BridgeUnavailable'];
    };
  };
  updateConnection: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /**
         * @description Matrix room ID of the form `!opaque:server`. Clients may send it raw
         *     (`/v1/!abc:example.org/connections`) or percent-encoded. Anything that does not
         *     look like `!…:…` gets 400 `HS_BAD_VALUE` "Invalid roomId".
         * @example !abc:example.org
         */
        roomId: components['parameters']['RoomId'];
        /**
         * @description Connection id for GET/PATCH/DELETE, state event type for PUT. Connection ids
         *     are URL-safe opaque strings taken from a listing. Event types look like
         *     `uk.half-shot.matrix-hookshot.generic.hook`.
         */
        connectionIdOrType: components['parameters']['ConnectionIdOrType'];
      };
      cookie?: never;
    };
    requestBody?: components['requestBodies']['ConnectionConfig'];
    responses: {
      /** @description The updated connection, with secrets. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ConnectionItem'];
        };
      };
      /**
       * @description `HS_BAD_VALUE`: invalid userId/roomId, invalid JSON, a non-object body, or a
       *     merged config that fails validation. `HS_UNSUPPORTED_OPERATION`: the
       *     connection's kind cannot be updated.
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['PayloadTooLarge'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['DisabledFeature'];
      503: components['responses']['BridgeUnavailable'];
    };
  };
  getGithubOauthUrls: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The two URLs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GithubOauthUrls'];
        };
      };
      /**
       * @description `HS_BAD_VALUE` "Invalid userId"; or `HS_UNSUPPORTED_OPERATION` "GitHub is not
       *     configured to support OAuth".
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
    };
  };
  getGithubAccount: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
        /** @description Page number, starting at 1. */
        page?: components['parameters']['Page'];
        /** @description Entries per page (GitHub allows at most 100). */
        perPage?: components['parameters']['PerPage'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The login state. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GithubAccount'];
        };
      };
      /**
       * @description `HS_BAD_VALUE` for an invalid userId, page or perPage;
       *     `HS_ADDITIONAL_ACTION_REQUIRED` "Could not fetch orgs for GitHub user".
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
    };
  };
  listGithubOrgRepositories: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
        /** @description Page number, starting at 1. */
        page?: components['parameters']['Page'];
        /** @description Entries per page (GitHub allows at most 100). */
        perPage?: components['parameters']['PerPage'];
      };
      header?: never;
      path: {
        /**
         * @description GitHub organisation login, or the user's own login for their personal
         *     account (compared case-sensitively).
         */
        orgName: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One page of repositories. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GithubRepositoryList'];
        };
      };
      /**
       * @description `HS_BAD_VALUE` for an invalid userId, page or perPage;
       *     `HS_ADDITIONAL_ACTION_REQUIRED` "Could not fetch accessible repos for GitHub
       *     org" (for example the App is not installed there).
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
    };
  };
  listGithubRepositories: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
        /** @description Page number, starting at 1. */
        page?: components['parameters']['Page'];
        /** @description Entries per page (GitHub allows at most 100). */
        perPage?: components['parameters']['PerPage'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One page of repositories. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GithubRepositoryList'];
        };
      };
      /**
       * @description `HS_BAD_VALUE` for an invalid userId, page or perPage;
       *     `HS_ADDITIONAL_ACTION_REQUIRED` "Could not fetch accessible repos for GitHub
       *     user".
       */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['Unknown'];
    };
  };
  getJiraOauthUrl: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The login URL. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JiraOauthUrl'];
        };
      };
      400: components['responses']['BadValue'];
      401: components['responses']['BadToken'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['DisabledFeature'];
    };
  };
  getJiraAccount: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The login state. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JiraAccount'];
        };
      };
      400: components['responses']['BadValue'];
      401: components['responses']['BadToken'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['DisabledFeature'];
    };
  };
  listJiraProjects: {
    parameters: {
      query: {
        /**
         * @description Matrix user ID the request is made for, e.g. `@alice:example.org`
         *     (percent-encoded or raw). It must contain `@`, then at least one
         *     character, `:`, and at least one character (an unanchored match); otherwise the
         *     server answers 400 `HS_BAD_VALUE` "Invalid userId". Nothing else is checked.
         * @example @alice:example.org
         */
        userId: components['parameters']['UserId'];
      };
      header?: never;
      path: {
        /** @description The JIRA instance `name` as listed by `/jira/account` (for example `acme`). */
        instanceName: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The projects. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          /**
           * @example [
           *       {
           *         "key": "PLAY",
           *         "name": "Jira Playground",
           *         "id": "10000",
           *         "url": "https://acme.atlassian.net/projects/PLAY"
           *       }
           *     ]
           */
          'application/json': components['schemas']['JiraProject'][];
        };
      };
      400: components['responses']['BadValue'];
      401: components['responses']['BadToken'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      431: components['responses']['HeadersTooLarge'];
      500: components['responses']['DisabledFeature'];
    };
  };
}
