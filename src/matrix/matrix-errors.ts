// First: SDK modules bind its logger's methods when loaded, which must already lead to ours.
import './sdk-logger';
import { ConnectionError, HTTPError, MatrixError } from 'matrix-js-sdk';

/** The homeserver answered with an error: its status, errcode and message, and the whole body. */
export class HomeserverError extends Error {
  override name = 'HomeserverError';
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The token is not (or no longer) valid. */
  get tokenRejected(): boolean {
    return this.errcode === 'M_UNKNOWN_TOKEN' || this.errcode === 'M_MISSING_TOKEN';
  }
}

/** No answer from the homeserver (refused, reset, DNS, timeout, not HTTP). */
export class HomeserverUnreachableError extends Error {
  override name = 'HomeserverUnreachableError';
}

/** The token works but belongs to another user or device than expected. */
export class IdentityMismatchError extends Error {
  override name = 'IdentityMismatchError';
  constructor(
    readonly field: 'user' | 'device',
    readonly found: string,
  ) {
    super(`the access token is for ${field} ${found}`);
  }
}

/** matrix-js-sdk's errors as this layer's own, so nothing outside src/matrix sees the SDK. */
export function toHomeserverError(err: unknown): unknown {
  if (err instanceof MatrixError) {
    const body = { ...(err.data as Record<string, unknown>) };
    return new HomeserverError(
      err.httpStatus ?? 500,
      err.errcode ?? 'M_UNKNOWN',
      err.data.error ?? err.message,
      body,
    );
  }
  if (err instanceof HTTPError) {
    return new HomeserverError(err.httpStatus ?? 500, 'M_UNKNOWN', err.message, {});
  }
  if (err instanceof ConnectionError || (err instanceof Error && err.name === 'AbortError')) {
    return new HomeserverUnreachableError(err.message);
  }
  if (err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError')) {
    return new HomeserverUnreachableError(err.message);
  }
  return err;
}

/** Runs an SDK call, translating its errors. */
export async function viaSdk<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toHomeserverError(err);
  }
}
