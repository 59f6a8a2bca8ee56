import { zipSync, type ZipOptions, type Zippable } from 'fflate';
import { stringify } from 'yaml';

/** Archives are built in memory by the tests; no binary fixtures. */

export type ZipContent = string | Buffer | Uint8Array;

export interface BuildZipOptions {
  /** 0 stores entries uncompressed; 1–9 deflate. Default 6. */
  level?: ZipOptions['level'];
}

/** Fixed so that the same entries always give the same bytes. */
const MTIME = new Date('2024-01-01T00:00:00Z');

/**
 * A zip with exactly these entry names, in this order. Names are written as given, so
 * unsafe ones (`../evil.js`, `/abs.js`, `a\\b.js`) can be tested; a name ending in `/` is a
 * directory entry.
 */
export function buildZip(
  entries: Record<string, ZipContent>,
  options: BuildZipOptions = {},
): Buffer {
  const files: Zippable = {};
  for (const [name, content] of Object.entries(entries)) {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    files[name] = [bytes, { mtime: MTIME }];
  }
  const zip = zipSync(files, { level: options.level ?? 6, mtime: MTIME });
  return Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
}

export const DEFAULT_PLUGIN_META = {
  id: 'xyz.maubot.echo',
  version: '1.0.0',
  modules: ['echo'],
  main_class: 'EchoBot',
};

export const DEFAULT_PLUGIN_FILES: Record<string, string> = {
  'echo.js': 'class EchoBot {}\nmodule.exports = { EchoBot };\n',
};

export interface BuildPluginOptions extends BuildZipOptions {
  /**
   * An object is merged over DEFAULT_PLUGIN_META and written as YAML (a key set to
   * `undefined` is left out, `null` is written as null); a string or bytes are written as is.
   */
  meta?: Record<string, unknown> | ZipContent;
  /** Merged over DEFAULT_PLUGIN_FILES; `null` leaves a default file out. */
  files?: Record<string, ZipContent | null>;
}

/** A plugin archive: `maubot.yaml` first, then the files. */
export function buildPlugin(options: BuildPluginOptions = {}): Buffer {
  const { meta = {}, files = {}, ...zipOptions } = options;
  const yaml =
    typeof meta === 'string' || meta instanceof Uint8Array
      ? meta
      : stringify({ ...DEFAULT_PLUGIN_META, ...meta });
  const entries: Record<string, ZipContent> = { 'maubot.yaml': yaml };
  for (const [name, content] of Object.entries({ ...DEFAULT_PLUGIN_FILES, ...files })) {
    if (content !== null) entries[name] = content;
  }
  return buildZip(entries, zipOptions);
}
