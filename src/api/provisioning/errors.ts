import { ApiErrorBase } from '../../http/api-error';

/** hookshot's error codes and the status each implies. */
export const PROVISIONING_STATUS = {
  HS_UNKNOWN: 500,
  HS_NOTFOUND: 404,
  HS_UNSUPPORTED_OPERATION: 400,
  HS_FORBIDDEN_USER: 403,
  HS_FORBIDDEN_BOT: 403,
  HS_NOT_IN_ROOM: 403,
  HS_BAD_VALUE: 400,
  HS_BAD_TOKEN: 401,
  HS_DISABLED_FEATURE: 500,
  HS_ADDITIONAL_ACTION_REQUIRED: 400,
  HS_CONFLICTING_CONNECTION: 409,
  HS_METHOD_NOT_ALLOWED: 405,
  HS_UNROUTABLE: 400,
} as const;

export type ProvisioningErrcode = keyof typeof PROVISIONING_STATUS;

/** The one error type of the provisioning API, rendered as `{errcode, error, ...extra}`. */
export class ProvisioningApiError extends ApiErrorBase<ProvisioningErrcode> {
  override name = 'ProvisioningApiError';

  constructor(
    errcode: ProvisioningErrcode,
    message: string,
    extra: Record<string, unknown> = {},
    status?: number,
  ) {
    super(errcode, message, status ?? PROVISIONING_STATUS[errcode], extra);
  }

  get body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}
