import type { ErrorRequestHandler } from 'express';
import { PluginInvalidError } from '../../plugins/plugin-archive';
import {
  PluginExistsError,
  PluginIdMismatchError,
  PluginInUseError,
  PluginNotFoundError,
  PluginReloadError,
} from '../../plugins/plugin-errors';
import { MaubotApiError } from './errors';

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
  return err;
}

export const translateDomainErrors: ErrorRequestHandler = (err, _req, _res, next) => {
  next(translate(err));
};
