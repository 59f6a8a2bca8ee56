import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';

/**
 * Where Switchboard's database is, in the shape `pg` takes (`new pg.Client(params)`). Other
 * modules open their own connections with it, keeping host, port, database and ssl and putting
 * their own `user` and `password` in (instance roles, say).
 */
export interface ConnectionParams {
  /** A host name or address, or the directory of the server's Unix socket (starts with /). */
  host: string;
  port: number;
  database: string;
  /** Switchboard's own login: the embedded server's superuser, or the DATABASE_URL user. */
  user: string;
  password?: string;
  /** TLS as DATABASE_URL asks for it (sslmode and friends); absent: none. */
  ssl?: boolean | ConnectionOptions;
}

/**
 * A DATABASE_URL read exactly as pg reads it (a client that is never connected does the
 * parsing): `?host=/socket/dir`, `sslmode`, and PGHOST, PGUSER, ... for what the URL leaves out.
 */
export function connectionParamsFromUrl(url: string): ConnectionParams {
  const parsed = new pg.Client(url);
  const ssl = parsed.ssl as boolean | ConnectionOptions;
  return {
    host: parsed.host,
    port: parsed.port,
    database: parsed.database ?? parsed.user ?? '',
    user: parsed.user ?? '',
    ...(parsed.password ? { password: parsed.password } : {}),
    ...(ssl ? { ssl } : {}),
  };
}
