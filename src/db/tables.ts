/** Row shapes of Switchboard's tables; nothing outside src/db sees these. */

export interface DbPluginArchiveRow {
  id: string | number;
  plugin_id: string;
  sha256: string;
  size: string | number;
  data: Uint8Array;
  created_at: Date;
}

export interface DbPluginRow {
  id: string;
  version: string;
  loader: string;
  meta: Record<string, unknown>;
  archive_id: string | number;
  created_at: Date;
  updated_at: Date;
}

export interface DbClientRow {
  id: string;
  homeserver: string;
  access_token_ciphertext: string;
  access_token_key_id: string;
  device_id: string;
  enabled: boolean;
  sync: boolean;
  autojoin: boolean;
  online: boolean;
  displayname: string;
  avatar_url: string;
  next_batch: string;
  filter_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface DbInstanceRow {
  id: string;
  type: string;
  enabled: boolean;
  primary_user: string;
  config: string;
  database_engine: string | null;
  created_at: Date;
}

export interface DbInstanceDatabaseRow {
  id: string | number;
  instance_id: string;
  schema_name: string;
  role_name: string;
  password_ciphertext: string | null;
  password_key_id: string | null;
  created_at: Date;
}

export interface DbConnectionRow {
  id: string;
  room_id: string;
  event_type: string;
  state_key: string;
  type: string;
  service: string;
  config: Record<string, unknown>;
  secret_ciphertext: string | null;
  secret_key_id: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface DbWebhookHookRow {
  hook_id: string;
  connection_id: string;
  expiry_notice_sent: boolean;
}

export interface DbFeedStateRow {
  url: string;
  etag: string | null;
  last_modified: string | null;
  initialised: boolean;
  failures: number;
  last_results: { timestamp: number; ok: boolean; error?: string }[];
  next_poll_at: Date | null;
}

export interface DbFeedItemSeenRow {
  url: string;
  item_id: string;
  seen_at: Date;
}

export interface DbOauthStateRow {
  state: string;
  service: string;
  user_id: string;
  expires_at: Date;
}

export interface DbUserTokenRow {
  service: string;
  user_id: string;
  ciphertext: string;
  key_id: string;
  updated_at: Date;
}

export interface DbWebhookDeliveryRow {
  service: string;
  delivery_id: string;
  received_at: Date;
}

export interface DbProvisioningBotRow {
  user_id: string;
  homeserver: string;
  access_token_ciphertext: string | null;
  access_token_key_id: string | null;
  device_id: string;
  next_batch: string;
  filter_id: string;
}
