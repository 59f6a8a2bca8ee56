import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import {
  firstLine,
  INVALID_DEFINITION,
  invalid,
  NOT_YAML,
  parseMeta,
  PluginInvalidError,
  type PluginLoader,
  type PluginMeta,
} from './plugin-meta';

/**
 * Reads and validates a maubot plugin archive (.mbp, a zip with `maubot.yaml` at its root)
 * the way maubot does at upload, with maubot's error messages, plus limits maubot lacks.
 */

export interface PluginArchive {
  meta: PluginMeta;
  loader: PluginLoader;
  /** Module name, e.g. "echo" or "pkg.sub". */
  mainModule: string;
  mainClass: string;
  /** Archive path of each module's file (the main module's included). */
  modulePaths: Record<string, string>;
}

export interface ArchiveLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  /** Uncompressed/compressed size, checked for entries bigger than 1 MiB uncompressed. */
  maxCompressionRatio: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 10_000,
  maxUncompressedBytes: 512 * MiB,
  maxCompressionRatio: 200,
};

/** Small entries compress well legitimately (text, zeros); only big ones can be bombs. */
const RATIO_CHECK_MIN_BYTES = 1 * MiB;
/** Below this, a whole archive's ratio is harmless whatever it is. */
const ARCHIVE_RATIO_CHECK_MIN_BYTES = 16 * MiB;
/** Real definitions are well under 1 KiB; this keeps the YAML parser's memory bounded. */
const MAX_META_BYTES = 1 * MiB;

export const NOT_A_PLUGIN = 'File is not a maubot plugin';
const NO_DEFINITION = 'File does not contain a maubot plugin definition';

const MODULE_FILES: Record<PluginLoader, ((path: string) => string)[]> = {
  javascript: [(p) => `${p}.js`, (p) => `${p}.mjs`, (p) => `${p}/index.js`],
  // zipimport's order: a package wins over a module of the same name.
  python: [(p) => `${p}/__init__.py`, (p) => `${p}.py`],
};
const LOADER_NAMES: Record<PluginLoader, string> = { javascript: 'JavaScript', python: 'Python' };

const ZIP_OPTIONS = {
  lazyEntries: true,
  validateEntrySizes: true,
  // Strict: yauzl would otherwise turn `\` into `/`, hiding Windows-style names from us.
  strictFileNames: true,
  decodeStrings: true,
  autoClose: false,
};

/**
 * Reads and validates an archive given as bytes or as the path of a file; from a file only the
 * central directory, maubot.yaml and the main module are read.
 */
export async function readPluginArchive(
  source: Buffer | string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<PluginArchive> {
  let zip: ZipFile;
  try {
    zip =
      typeof source === 'string'
        ? await yauzl.openPromise(source, ZIP_OPTIONS)
        : await yauzl.fromBufferPromise(source, ZIP_OPTIONS);
  } catch (err) {
    throw new PluginInvalidError(NOT_A_PLUGIN, firstLine(err));
  }
  try {
    const entries = await readCentralDirectory(zip, limits);
    const metaEntry = entries.get('maubot.yaml');
    if (!metaEntry) throw new PluginInvalidError(NO_DEFINITION, 'no maubot.yaml at archive root');
    const meta = parseMeta(await readMetaText(zip, metaEntry));
    return await checkModules(zip, entries, meta);
  } finally {
    zip.close();
  }
}

/**
 * Validates an archive and returns every file in it, for running the plugin. The upload limits
 * apply again (an archive stored before a limit existed gets no pass): entry count, declared
 * sizes and compression ratios before anything is inflated, then the bytes actually inflated,
 * entry by entry, so no more than the limit is ever held.
 */
export async function readPluginFiles(
  data: Buffer,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{ archive: PluginArchive; files: Map<string, Buffer> }> {
  const archive = await readPluginArchive(data, limits);
  const zip = await yauzl.fromBufferPromise(data, ZIP_OPTIONS);
  try {
    const files = new Map<string, Buffer>();
    let inflated = 0;
    for (const [name, entry] of await readCentralDirectory(zip, limits)) {
      if (name.endsWith('/')) continue;
      const content = Buffer.allocUnsafe(entry.uncompressedSize);
      let at = 0;
      try {
        // validateEntrySizes stops an entry that inflates past its declared size.
        for await (const chunk of await openEntry(zip, entry)) {
          const buf = chunk as Buffer;
          inflated += buf.length;
          if (inflated > limits.maxUncompressedBytes) {
            throw new PluginInvalidError(
              NOT_A_PLUGIN,
              `archive expands to more than ${formatBytes(limits.maxUncompressedBytes)}`,
            );
          }
          at += buf.copy(content, at);
        }
      } catch (err) {
        if (err instanceof PluginInvalidError) throw err;
        throw new PluginInvalidError(NOT_A_PLUGIN, `entry ${name}: ${firstLine(err)}`);
      }
      files.set(name, content.subarray(0, at));
    }
    return { archive, files };
  } finally {
    zip.close();
  }
}

/** Walks the central directory only (no file data), checking names and limits. */
async function readCentralDirectory(
  zip: ZipFile,
  limits: ArchiveLimits,
): Promise<Map<string, Entry>> {
  if (zip.entryCount > limits.maxEntries) {
    throw new PluginInvalidError(
      NOT_A_PLUGIN,
      `archive has more than ${limits.maxEntries} entries`,
    );
  }
  const entries = new Map<string, Entry>();
  let total = 0;
  let compressed = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name === '' || name.includes('\0')) {
        throw new PluginInvalidError(NOT_A_PLUGIN, `unsafe entry name ${JSON.stringify(name)}`);
      }
      // Readers disagree on which of two same-named entries counts; allow no ambiguity.
      if (entries.has(name)) {
        throw new PluginInvalidError(NOT_A_PLUGIN, `duplicate entry ${name}`);
      }
      entries.set(name, entry);
      total += entry.uncompressedSize;
      compressed += entry.compressedSize;
      if (total > limits.maxUncompressedBytes) {
        throw new PluginInvalidError(
          NOT_A_PLUGIN,
          `archive expands to more than ${formatBytes(limits.maxUncompressedBytes)}`,
        );
      }
      if (
        entry.uncompressedSize > RATIO_CHECK_MIN_BYTES &&
        entry.uncompressedSize > entry.compressedSize * limits.maxCompressionRatio
      ) {
        throw new PluginInvalidError(
          NOT_A_PLUGIN,
          `entry ${name} has a compression ratio over ${limits.maxCompressionRatio}`,
        );
      }
    }
  } catch (err) {
    if (err instanceof PluginInvalidError) throw err;
    throw new PluginInvalidError(NOT_A_PLUGIN, describeZipError(err));
  }
  // Many small entries that each pass the check above can still add up to a bomb (500 entries
  // of 1 MiB of zeros is 500 MiB from half a megabyte), so the whole archive is checked too.
  if (total > ARCHIVE_RATIO_CHECK_MIN_BYTES && total > compressed * limits.maxCompressionRatio) {
    throw new PluginInvalidError(
      NOT_A_PLUGIN,
      `archive has a compression ratio over ${limits.maxCompressionRatio}`,
    );
  }
  return entries;
}

/** yauzl's own name checks (absolute, `..`, `\`) end up here too, named as unsafe. */
function describeZipError(err: unknown): string {
  const message = firstLine(err);
  const unsafe =
    /^(invalid characters in fileName|absolute path|invalid relative path): (.*)$/.exec(message);
  return unsafe ? `unsafe entry name ${JSON.stringify(unsafe[2])} (${unsafe[1]})` : message;
}

async function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  if (entry.isEncrypted()) {
    throw new PluginInvalidError(NOT_A_PLUGIN, `entry ${entry.fileName} is encrypted`);
  }
  if (!entry.canDecodeFileData()) {
    throw new PluginInvalidError(
      NOT_A_PLUGIN,
      `entry ${entry.fileName} uses unsupported compression method ${entry.compressionMethod}`,
    );
  }
  try {
    return await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw new PluginInvalidError(NOT_A_PLUGIN, `entry ${entry.fileName}: ${firstLine(err)}`);
  }
}

async function readMetaText(zip: ZipFile, entry: Entry): Promise<string> {
  if (entry.uncompressedSize > MAX_META_BYTES) {
    throw new PluginInvalidError(
      INVALID_DEFINITION,
      `maubot.yaml is larger than ${formatBytes(MAX_META_BYTES)}`,
    );
  }
  const stream = await openEntry(zip, entry);
  const chunks: Buffer[] = [];
  let crc = 0;
  try {
    // validateEntrySizes stops the stream if it inflates past the declared size.
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      crc = crc32(buf, crc);
      chunks.push(buf);
    }
  } catch (err) {
    throw new PluginInvalidError(NOT_A_PLUGIN, `entry maubot.yaml: ${firstLine(err)}`);
  }
  // yauzl does not check CRCs; Python's zipfile (and so maubot) rejects a mismatch.
  if (crc >>> 0 !== entry.crc32) {
    throw new PluginInvalidError(NOT_A_PLUGIN, 'entry maubot.yaml: CRC-32 mismatch');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new PluginInvalidError(NOT_YAML, 'maubot.yaml is not valid UTF-8');
  }
}

interface ResolvedModule {
  loader: PluginLoader;
  path: string;
  entry: Entry;
}

function resolveModule(
  entries: Map<string, Entry>,
  module: string,
  loaders: PluginLoader[],
): ResolvedModule | null {
  const base = module.split('.').join('/');
  for (const loader of loaders) {
    for (const candidate of MODULE_FILES[loader]) {
      const path = candidate(base);
      const entry = entries.get(path);
      if (entry) return { loader, path, entry };
    }
  }
  return null;
}

function candidatesOf(module: string, loaders: PluginLoader[]): string {
  const base = module.split('.').join('/');
  return loaders.flatMap((l) => MODULE_FILES[l].map((c) => c(base))).join(', ');
}

/** maubot's pre-load checks: main module, main class in it, then every listed module. */
async function checkModules(
  zip: ZipFile,
  entries: Map<string, Entry>,
  meta: PluginMeta,
): Promise<PluginArchive> {
  let mainModule: string;
  let mainClass: string;
  if (meta.main_class.includes('/')) {
    // maubot uses the first two parts of `Module/Class`.
    [mainModule = '', mainClass = ''] = meta.main_class.split('/');
  } else {
    mainModule = meta.modules[meta.modules.length - 1]!;
    mainClass = meta.main_class;
  }
  if (mainModule === '' || mainClass === '') {
    throw invalid(`main_class: ${JSON.stringify(meta.main_class)} is not Class or Module/Class`);
  }

  const allLoaders: PluginLoader[] = ['javascript', 'python'];
  const main = resolveModule(entries, mainModule, allLoaders);
  if (!main) {
    throw new PluginInvalidError(
      `Main module ${mainModule} not found in file`,
      `none of ${candidatesOf(mainModule, allLoaders)} is in the archive`,
    );
  }
  if (!(await entryMentions(zip, main.entry, mainClass))) {
    throw new PluginInvalidError(
      `Main class ${mainClass} not in ${mainModule}`,
      `${main.path} does not mention ${mainClass}`,
    );
  }

  const modulePaths: Record<string, string> = { [mainModule]: main.path };
  for (const module of meta.modules) {
    const found = resolveModule(entries, module, [main.loader]);
    if (!found) {
      const other = resolveModule(entries, module, allLoaders);
      throw new PluginInvalidError(
        `Module ${module} not found in file`,
        other
          ? `${other.path} is ${LOADER_NAMES[other.loader]}, but the main module is ${LOADER_NAMES[main.loader]}`
          : `none of ${candidatesOf(module, [main.loader])} is in the archive`,
      );
    }
    modulePaths[module] = found.path;
  }
  return { meta, loader: main.loader, mainModule, mainClass, modulePaths };
}

/**
 * Whether the entry's text contains `word` as a whole identifier. Streams the entry and stops
 * at the first hit, so a big bundled module is never held in memory.
 */
async function entryMentions(zip: ZipFile, entry: Entry, word: string): Promise<boolean> {
  const scanner = new WordScanner(word);
  const decoder = new TextDecoder('utf-8');
  const stream = await openEntry(zip, entry);
  let crc = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      crc = crc32(buf, crc);
      if (scanner.push(decoder.decode(buf, { stream: true }), false)) return true;
    }
  } catch (err) {
    throw new PluginInvalidError(NOT_A_PLUGIN, `entry ${entry.fileName}: ${firstLine(err)}`);
  }
  if (crc >>> 0 !== entry.crc32) {
    throw new PluginInvalidError(NOT_A_PLUGIN, `entry ${entry.fileName}: CRC-32 mismatch`);
  }
  return scanner.push(decoder.decode(), true);
}

/**
 * Finds a word across chunk boundaries. A match is only judged once the 2 code units on each
 * side (one code point, maybe a surrogate pair) are in the window, so a split never decides.
 */
class WordScanner {
  private readonly pattern: RegExp;
  private carry = '';
  private judgeFrom = 0;

  constructor(private readonly word: string) {
    const escaped = word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    this.pattern = new RegExp(`(?<![\\p{ID_Continue}$])${escaped}(?![\\p{ID_Continue}$])`, 'gu');
  }

  push(text: string, final: boolean): boolean {
    const window = this.carry + text;
    const lastStart = final ? window.length : window.length - this.word.length - 2;
    this.pattern.lastIndex = this.judgeFrom;
    const match = this.pattern.exec(window);
    if (match && match.index <= lastStart) return true;
    const keep = this.word.length + 3;
    if (window.length > keep) {
      this.carry = window.slice(window.length - keep);
      this.judgeFrom = 2;
    } else {
      this.carry = window;
    }
    return false;
  }
}

function formatBytes(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}
