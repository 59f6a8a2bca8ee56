/**
 * Why the database cannot be opened, in words for the admin: the server prints these messages
 * as they are (no stack trace) and exits.
 */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError';
}

/** Another Switchboard uses the same data directory or database. */
export class DatabaseInUseError extends DatabaseStartError {
  override name = 'DatabaseInUseError';
}

/** The embedded PostgreSQL server cannot run here (no binaries, no OS user, no way in). */
export class EmbeddedDatabaseUnavailableError extends DatabaseStartError {
  override name = 'EmbeddedDatabaseUnavailableError';
}

/** The database of an earlier release could not be imported (nothing was changed). */
export class PgliteImportError extends DatabaseStartError {
  override name = 'PgliteImportError';
}
