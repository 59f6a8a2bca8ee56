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
