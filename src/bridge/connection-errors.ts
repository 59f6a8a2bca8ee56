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
 * it as its error body (the status follows from the errcode).
 */
export class ConnectionError extends Error {
  override name = 'ConnectionError';

  constructor(
    readonly errcode: ConnectionErrcode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * The bridge cannot act in rooms now (its bot is not running, or the homeserver is away):
 * hookshot's HS_UNKNOWN, which the provisioning API answers as unavailable, not as a fault.
 */
export class BridgeUnavailableError extends ConnectionError {
  override name = 'BridgeUnavailableError';

  constructor(message: string) {
    super('HS_UNKNOWN', message);
  }
}

export const badValue = (message: string, extra?: Record<string, unknown>): ConnectionError =>
  new ConnectionError('HS_BAD_VALUE', message, extra);
