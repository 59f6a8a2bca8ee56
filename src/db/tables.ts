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
