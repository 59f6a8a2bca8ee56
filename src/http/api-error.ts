/** What each API's one error type shares: an errcode, an HTTP status and extra body fields. */
export abstract class ApiErrorBase<Code extends string> extends Error {
  constructor(
    readonly errcode: Code,
    message: string,
    readonly status: number,
    readonly extra: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The error body in the API's own shape. */
  abstract get body(): Record<string, unknown>;
}
