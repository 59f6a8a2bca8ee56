/**
 * The answer shapes of the `webhooks` listener, named as hookshot has them:
 * - `hook`: generic webhooks, `{"ok": false, "error"}`;
 * - `errcode`: GitHub's and JIRA's webhooks and JIRA's callback errors, `{"errcode", "error"}`;
 * - `githubPage`, `jiraPage`: the OAuth callbacks' pages for the user's browser.
 */
export type IngressShape = 'hook' | 'errcode' | 'githubPage' | 'jiraPage';

/** hookshot's errcodes in the listener's `{errcode, error}` answers. */
export type IngressErrcode =
  | 'HS_BAD_VALUE'
  | 'HS_BAD_TOKEN'
  | 'HS_FORBIDDEN_USER'
  | 'HS_NOTFOUND'
  | 'HS_METHOD_NOT_ALLOWED'
  | 'HS_UNKNOWN'
  | 'HS_DISABLED_FEATURE';

/** The errcode of an answer with this status, unless the error names another (one table). */
export function errcodeOf(status: number): IngressErrcode {
  if (status === 401) return 'HS_BAD_TOKEN';
  if (status === 403) return 'HS_FORBIDDEN_USER';
  if (status === 404) return 'HS_NOTFOUND';
  if (status === 405) return 'HS_METHOD_NOT_ALLOWED';
  return status >= 500 ? 'HS_UNKNOWN' : 'HS_BAD_VALUE';
}

/** The one error type of the `webhooks` listener; the error middleware renders it. */
export class IngressError extends Error {
  override name = 'IngressError';
  readonly errcode: IngressErrcode;
  /** The shape it is answered in; the route's own shape when absent. */
  readonly shape: IngressShape | undefined;
  readonly headers: Record<string, string>;
  readonly logLevel: 'info' | 'warn' | undefined;

  constructor(
    readonly status: number,
    message: string,
    options: {
      errcode?: IngressErrcode;
      shape?: IngressShape;
      headers?: Record<string, string>;
      /** A 5xx the server means to answer: its request line is logged at this level. */
      logLevel?: 'info' | 'warn';
    } = {},
  ) {
    super(message);
    this.errcode = options.errcode ?? errcodeOf(status);
    this.shape = options.shape;
    this.headers = options.headers ?? {};
    this.logLevel = options.logLevel;
  }
}
