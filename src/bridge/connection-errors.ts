/** hookshot's error codes, as the connection services raise them. */
export type ConnectionErrcode =
  | 'HS_UNKNOWN'
  | 'HS_NOTFOUND'
  | 'HS_UNSUPPORTED_OPERATION'
  | 'HS_FORBIDDEN_USER'
  | 'HS_FORBIDDEN_BOT'
  | 'HS_NOT_IN_ROOM'
  | 'HS_BAD_VALUE'
  | 'HS_DISABLED_FEATURE'
  | 'HS_ADDITIONAL_ACTION_REQUIRED'
  | 'HS_CONFLICTING_CONNECTION';

/**
 * A refusal of a connection operation, with hookshot's errcode; the provisioning API renders
 * it as its error body (the status follows from the errcode unless given).
 */
export class ConnectionError extends Error {
  override name = 'ConnectionError';

  constructor(
    readonly errcode: ConnectionErrcode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly status?: number,
  ) {
    super(message);
  }
}

export const badValue = (message: string, extra?: Record<string, unknown>): ConnectionError =>
  new ConnectionError('HS_BAD_VALUE', message, extra);
