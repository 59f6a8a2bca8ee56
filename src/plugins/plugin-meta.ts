import { clean as cleanVersion, gt as versionGreater } from '@renovatebot/pep440';
import { parseDocument } from 'yaml';
import type { PluginLoader, PluginMeta } from '../db/plugin-repository';
import { MAUBOT_VERSION } from '../version';

export type { PluginLoader, PluginMeta };

/** `message` is maubot's text (the API's `error`); `detail` the short cause (`stacktrace`). */
export class PluginInvalidError extends Error {
  override name = 'PluginInvalidError';

  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/** Java-package style, safe as a file name and URL segment. */
export const PLUGIN_ID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
export const NOT_YAML = 'Maubot plugin definition file is not valid YAML';
export const INVALID_DEFINITION = 'Maubot plugin definition in file is invalid';

/** maubot.yaml parsed and validated as maubot does, with maubot's defaults and messages. */
export function parseMeta(text: string): PluginMeta {
  let raw: unknown;
  try {
    const doc = parseDocument(text, {
      // Core schema only: no custom or language-specific tags; ruamel also honours `<<`.
      customTags: [],
      merge: true,
      uniqueKeys: true,
      logLevel: 'silent',
    });
    const [error] = doc.errors;
    if (error) throw error;
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new PluginInvalidError(NOT_YAML, firstLine(err));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const got = raw === null ? 'an empty document' : typeName(raw);
    throw new PluginInvalidError(INVALID_DEFINITION, `expected a mapping, got ${got}`);
  }
  const meta = validateMeta(raw as Record<string, unknown>);
  if (!PLUGIN_ID_PATTERN.test(meta.id)) {
    throw new PluginInvalidError(
      `Plugin ID ${meta.id} is not valid: use letters, digits, ".", "_" and "-" (like xyz.maubot.example)`,
      `id: ${JSON.stringify(meta.id)} does not match ${PLUGIN_ID_PATTERN.source}`,
    );
  }
  if (versionGreater(meta.maubot, MAUBOT_VERSION)) {
    throw new PluginInvalidError(
      `Plugin requires maubot ${meta.maubot}, but this instance is ${MAUBOT_VERSION}`,
      `maubot: ${meta.maubot} > ${MAUBOT_VERSION}`,
    );
  }
  return meta;
}

export function invalid(detail: string): PluginInvalidError {
  return new PluginInvalidError(INVALID_DEFINITION, detail);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

function validateMeta(raw: Record<string, unknown>): PluginMeta {
  // A YAML null means "not given": the default for optional keys, an error for required ones.
  const get = (key: string): unknown =>
    Object.hasOwn(raw, key) ? (raw[key] ?? undefined) : undefined;
  const required = (key: string): unknown => {
    if (!Object.hasOwn(raw, key)) throw invalid(`${key}: required key is missing`);
    const value = get(key);
    if (value === undefined) throw invalid(`${key}: must not be null`);
    return value;
  };
  const string = (key: string, value: unknown): string => {
    if (typeof value !== 'string') {
      throw invalid(`${key}: expected a string, got ${typeName(value)}`);
    }
    return value;
  };
  const version = (key: string, value: unknown): string => {
    const text = string(key, value);
    const normalised = cleanVersion(text);
    if (normalised === null || hasUnsafeNumber(text)) {
      throw invalid(`${key}: ${JSON.stringify(value)} is not a valid PEP 440 version`);
    }
    return normalised;
  };
  const strings = (key: string, value: unknown): string[] => {
    if (!Array.isArray(value)) {
      throw invalid(`${key}: expected a list of strings, got ${typeName(value)}`);
    }
    return value.map((item, i) => {
      if (typeof item !== 'string') {
        throw invalid(`${key}[${i}]: expected a string, got ${typeName(item)}`);
      }
      return item;
    });
  };
  const optional = <T>(key: string, fallback: T, check: (key: string, value: unknown) => T): T => {
    const value = get(key);
    return value === undefined ? fallback : check(key, value);
  };
  const bool = (key: string, value: unknown): boolean => {
    if (typeof value !== 'boolean')
      throw invalid(`${key}: expected true or false, got ${typeName(value)}`);
    return value;
  };

  const id = string('id', required('id'));
  const ver = version('version', required('version'));
  const modules = strings('modules', required('modules'));
  if (modules.length === 0) throw invalid('modules: expected at least one module');
  modules.forEach((m, i) => {
    if (m === '') throw invalid(`modules[${i}]: module name is empty`);
  });
  const mainClass = string('main_class', required('main_class'));

  return {
    ...raw,
    id,
    version: ver,
    modules,
    main_class: mainClass,
    maubot: optional('maubot', MAUBOT_VERSION, version),
    database: optional('database', false, bool),
    database_type: optional('database_type', 'sqlalchemy', string),
    config: optional('config', false, bool),
    webapp: optional('webapp', false, bool),
    license: optional('license', '', string),
    extra_files: optional('extra_files', [], strings),
    dependencies: optional('dependencies', [], strings),
    soft_dependencies: optional('soft_dependencies', [], strings),
  };
}

/** Python keeps arbitrarily long version numbers exactly; JS numbers would silently round them. */
function hasUnsafeNumber(version: string): boolean {
  return (version.match(/[0-9]+/g) ?? []).some((n) => !Number.isSafeInteger(Number(n)));
}

/** The first line of an error's message: the cause, without a stack or a parser's excerpt. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0]!.trim();
}
