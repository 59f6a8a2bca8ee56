/**
 * The answer shapes of the `webhooks` listener, named as hookshot has them:
 * - `hook`: generic webhooks, `{"ok": false, "error"}`;
 * - `errcode`: GitHub's and JIRA's webhooks and JIRA's callback errors, `{"errcode", "error"}`;
 * - `githubPage`, `jiraPage`: the OAuth callbacks' pages for the user's browser.
 */
export type IngressShape = 'hook' | 'errcode' | 'githubPage' | 'jiraPage';

/** hookshot's errcodes for the listener's answers, and the status each implies. */
export const INGRESS_STATUS = {
  HS_BAD_VALUE: 400,
  HS_BAD_TOKEN: 401,
  HS_FORBIDDEN_USER: 403,
  HS_NOTFOUND: 404,
  HS_METHOD_NOT_ALLOWED: 405,
  HS_UNKNOWN: 500,
  HS_DISABLED_FEATURE: 500,
} as const;

export type IngressErrcode = keyof typeof INGRESS_STATUS;

/** The errcode an answer of this status has when nothing more precise is known. */
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

  constructor(
    readonly status: number,
    message: string,
    options: {
      errcode?: IngressErrcode;
      shape?: IngressShape;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
    this.errcode = options.errcode ?? errcodeOf(status);
    this.shape = options.shape;
    this.headers = options.headers ?? {};
  }
}
