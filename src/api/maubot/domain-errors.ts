import type { ErrorRequestHandler } from 'express';
import { PluginInvalidError } from '../../plugins/plugin-meta';
import {
  PluginExistsError,
  PluginIdMismatchError,
  PluginInUseError,
  PluginNotFoundError,
  PluginReloadError,
} from '../../plugins/plugin-errors';
import {
  AccountRefusedError,
  AuthServerNotFoundError,
  ClientAccessError,
  ClientExistsError,
  ClientIdentityMismatchError,
  ClientInUseError,
  ClientNotFoundError,
  AuthRequestNotJsonError,
  CredentialsMissingError,
  RegistrationSecretMissingError,
  RegistrationSsoError,
  SsoNotSupportedError,
  SsoSessionNotFoundError,
} from '../../clients/client-errors';
import { ForwardFailedError } from '../../http/forward';
import {
  QueryMissingError,
  SoftDatabaseError,
  SqlError,
} from '../../instances/instance-database-service';
import {
  InstanceExistsError,
  InstanceNotFoundError,
  PluginTypeNotFoundError,
  PluginTypeRequiredError,
  PrimaryUserNotFoundError,
  PrimaryUserRequiredError,
} from '../../instances/instance-errors';
import { MaubotApiError } from './errors';

const ACCESS_ERRCODES = {
  token: 'bad_client_access_token',
  details: 'bad_client_access_details',
  connection: 'bad_client_connection_details',
} as const;

/** maubot's wording for a token of another user or device (both use errcode mxid_mismatch). */
function mismatchMessage(err: ClientIdentityMismatchError): string {
  return err.field === 'user'
    ? `The Matrix user ID of the client and the user ID of the access token don't match. Access token is for user ${err.found}`
    : `The Matrix device ID of the client and the device ID of the access token don't match. Access token is for device ${err.found}`;
}

/** Homeserver refusals: login passes them through with their status; register wraps them in 500. */
function refusal(err: AccountRefusedError): MaubotApiError {
  if (err.during === 'login') {
    return new MaubotApiError(err.errcode as 'internal_server_error', err.message, {}, err.status);
  }
  return new MaubotApiError(
    err.errcode as 'internal_server_error',
    err.message,
    { http_status: err.status },
    500,
  );
}

/** Services' errors in maubot's words: errcode, status, message and extra fields. */
function translate(err: unknown): unknown {
  if (err instanceof PluginInvalidError) {
    return new MaubotApiError('plugin_invalid', err.message, { stacktrace: err.detail });
  }
  if (err instanceof PluginReloadError) {
    return new MaubotApiError('plugin_reload_fail', err.message, { stacktrace: err.detail });
  }
  if (err instanceof PluginNotFoundError) return new MaubotApiError('plugin_not_found');
  if (err instanceof PluginExistsError) return new MaubotApiError('plugin_exists');
  if (err instanceof PluginIdMismatchError) return new MaubotApiError('pid_mismatch');
  if (err instanceof PluginInUseError) return new MaubotApiError('plugin_in_use');
  return translateClientError(err);
}

function translateInstanceError(err: unknown): unknown {
  if (err instanceof SoftDatabaseError) return new MaubotApiError(err.errcode);
  if (err instanceof QueryMissingError) return new MaubotApiError('query_missing');
  if (err instanceof SqlError) {
    return new MaubotApiError('sql_error', err.message, { ok: false, query: err.query });
  }
  if (err instanceof InstanceNotFoundError) return new MaubotApiError('instance_not_found');
  if (err instanceof InstanceExistsError) return new MaubotApiError('instance_exists');
  if (err instanceof PluginTypeRequiredError) return new MaubotApiError('plugin_type_required');
  if (err instanceof PrimaryUserRequiredError) return new MaubotApiError('primary_user_required');
  if (err instanceof PrimaryUserNotFoundError) return new MaubotApiError('primary_user_not_found');
  if (err instanceof PluginTypeNotFoundError) return new MaubotApiError('plugin_type_not_found');
  return err;
}

function translateClientError(err: unknown): unknown {
  if (err instanceof ClientNotFoundError) return new MaubotApiError('client_not_found');
  if (err instanceof ClientExistsError) return new MaubotApiError('user_exists');
  if (err instanceof ClientInUseError) return new MaubotApiError('client_in_use');
  if (err instanceof ClientAccessError) return new MaubotApiError(ACCESS_ERRCODES[err.problem]);
  if (err instanceof ClientIdentityMismatchError) {
    return new MaubotApiError('mxid_mismatch', mismatchMessage(err));
  }
  if (err instanceof AuthServerNotFoundError) return new MaubotApiError('server_not_found');
  if (err instanceof AuthRequestNotJsonError) return new MaubotApiError('body_not_json');
  if (err instanceof CredentialsMissingError) {
    return new MaubotApiError('username_or_password_missing');
  }
  if (err instanceof RegistrationSsoError) return new MaubotApiError('registration_no_sso');
  if (err instanceof RegistrationSecretMissingError) {
    return new MaubotApiError('registration_secret_not_found');
  }
  if (err instanceof SsoNotSupportedError) return new MaubotApiError('sso_not_supported');
  if (err instanceof SsoSessionNotFoundError) return new MaubotApiError('resource_not_found');
  if (err instanceof AccountRefusedError) return refusal(err);
  if (err instanceof ForwardFailedError) return new MaubotApiError('internal_server_error');
  return translateInstanceError(err);
}

export const translateDomainErrors: ErrorRequestHandler = (err, _req, _res, next) => {
  next(translate(err));
};
