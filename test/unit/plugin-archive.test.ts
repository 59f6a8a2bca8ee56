import {
  DEFAULT_ARCHIVE_LIMITS,
  readPluginArchive,
  readPluginFiles,
  type ArchiveLimits,
} from '../../src/plugins/plugin-archive';
import { PLUGIN_ID_PATTERN, PluginInvalidError } from '../../src/plugins/plugin-meta';
import { MAUBOT_VERSION } from '../../src/version';
import { buildPlugin, buildZip } from '../helpers/zip';

const NOT_A_PLUGIN = 'File is not a maubot plugin';
const NO_DEFINITION = 'File does not contain a maubot plugin definition';
const NOT_YAML = 'Maubot plugin definition file is not valid YAML';
const INVALID = 'Maubot plugin definition in file is invalid';

async function rejection(
  data: Buffer,
  limits?: ArchiveLimits,
): Promise<{ message: string; detail: string }> {
  try {
    await readPluginArchive(data, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginInvalidError);
    const { message, detail } = err as PluginInvalidError;
    // A short cause, never a stack trace.
    expect(detail).not.toMatch(/\n|\bat .*:\d+:\d+/);
    return { message, detail };
  }
  throw new Error('expected the archive to be rejected');
}

async function expectInvalid(
  data: Buffer,
  message: string,
  detail: string | RegExp,
  limits?: ArchiveLimits,
): Promise<void> {
  const error = await rejection(data, limits);
  expect(error.message).toBe(message);
  if (typeof detail === 'string') expect(error.detail).toBe(detail);
  else expect(error.detail).toMatch(detail);
}

describe('readPluginArchive: a valid plugin', () => {
  it('when the plugin is one JavaScript file, then its metadata has the defaults applied', async () => {
    const archive = await readPluginArchive(buildPlugin());
    expect(archive).toEqual({
      meta: {
        id: 'xyz.maubot.echo',
        version: '1.0.0',
        modules: ['echo'],
        main_class: 'EchoBot',
        maubot: MAUBOT_VERSION,
        database: false,
        database_type: 'sqlalchemy',
        config: false,
        webapp: false,
        license: '',
        extra_files: [],
        dependencies: [],
        soft_dependencies: [],
      },
      loader: 'javascript',
      mainModule: 'echo',
      mainClass: 'EchoBot',
      modulePaths: { echo: 'echo.js' },
    });
  });

  it('when every optional key is given, then the given values are kept', async () => {
    const given = {
      maubot: '0.5.0',
      database: true,
      database_type: 'asyncpg',
      config: true,
      webapp: true,
      license: 'AGPL-3.0-or-later',
      extra_files: ['base-config.yaml'],
      dependencies: ['aiohttp'],
      soft_dependencies: ['pillow'],
    };
    const { meta } = await readPluginArchive(buildPlugin({ meta: given }));
    expect(meta).toMatchObject(given);
  });

  it('when optional keys are null, then the defaults are used', async () => {
    const { meta } = await readPluginArchive(
      buildPlugin({ meta: { maubot: null, database: null, license: null, extra_files: null } }),
    );
    expect(meta).toMatchObject({ maubot: MAUBOT_VERSION, database: false, license: '' });
    expect(meta.extra_files).toEqual([]);
  });

  it('when the definition has unknown keys, then they are kept as they are', async () => {
    const { meta } = await readPluginArchive(
      buildPlugin({ meta: { homepage: 'https://example.org', nested: { a: [1, null] } } }),
    );
    expect(meta.homepage).toBe('https://example.org');
    expect(meta.nested).toEqual({ a: [1, null] });
  });

  it.each([
    ['1.0.0-beta', '1.0.0b0'],
    ['v2.0', '2.0'],
    ['1.0.0.dev1', '1.0.0.dev1'],
    ['1.0-r1', '1.0.post1'],
    [' 1.0 ', '1.0'],
  ])('when the version is %j, then it is normalised to %s', async (given, normalised) => {
    const { meta } = await readPluginArchive(buildPlugin({ meta: { version: given } }));
    expect(meta.version).toBe(normalised);
  });

  it.each(['0.5.0', '0.6.0', '0.6', 'v0.6.0rc1'])(
    'when the plugin needs maubot %s, then it is accepted',
    async (maubot) => {
      await expect(readPluginArchive(buildPlugin({ meta: { maubot } }))).resolves.toBeDefined();
    },
  );

  it('when the main module is an .mjs file, then it is a JavaScript plugin', async () => {
    const archive = await readPluginArchive(
      buildPlugin({ files: { 'echo.js': null, 'echo.mjs': 'export class EchoBot {}\n' } }),
    );
    expect(archive.loader).toBe('javascript');
    expect(archive.modulePaths).toEqual({ echo: 'echo.mjs' });
  });

  it('when the main module is a folder with index.js, then that file is used', async () => {
    const archive = await readPluginArchive(
      buildPlugin({
        meta: { modules: ['pkg'] },
        files: {
          'echo.js': null,
          'pkg/': '',
          'pkg/index.js': 'exports.EchoBot = class EchoBot {};',
        },
      }),
    );
    expect(archive).toMatchObject({ loader: 'javascript', mainModule: 'pkg' });
    expect(archive.modulePaths).toEqual({ pkg: 'pkg/index.js' });
  });

  it('when the modules are Python files, then it is a Python plugin', async () => {
    const archive = await readPluginArchive(
      buildPlugin({
        meta: { modules: ['helpers', 'echo'] },
        files: {
          'echo.js': null,
          'echo.py': 'from maubot import Plugin\n\nclass EchoBot(Plugin):\n    pass\n',
          'helpers/__init__.py': '',
          'base-config.yaml': 'x: 1\n',
        },
      }),
    );
    expect(archive).toMatchObject({ loader: 'python', mainModule: 'echo', mainClass: 'EchoBot' });
    expect(archive.modulePaths).toEqual({ echo: 'echo.py', helpers: 'helpers/__init__.py' });
  });

  it('when a module name is dotted, then it maps to a nested path', async () => {
    const archive = await readPluginArchive(
      buildPlugin({
        meta: { modules: ['a.b'] },
        files: { 'echo.js': null, 'a/b.js': 'class EchoBot {}' },
      }),
    );
    expect(archive).toMatchObject({ mainModule: 'a.b', modulePaths: { 'a.b': 'a/b.js' } });
  });

  it('when main_class is Module/Class, then that module is the main module', async () => {
    const archive = await readPluginArchive(
      buildPlugin({
        meta: { modules: ['bot', 'util'], main_class: 'bot/EchoBot' },
        files: { 'echo.js': null, 'bot.js': 'class EchoBot {}', 'util.js': '' },
      }),
    );
    expect(archive).toMatchObject({ mainModule: 'bot', mainClass: 'EchoBot' });
    expect(archive.modulePaths).toEqual({ bot: 'bot.js', util: 'util.js' });
  });

  it('when entries are stored uncompressed, then they are read too', async () => {
    await expect(readPluginArchive(buildPlugin({ level: 0 }))).resolves.toMatchObject({
      mainClass: 'EchoBot',
    });
  });

  it('when the class name lies across the inflater’s 16 KiB output chunks, then it is found', async () => {
    // Every placement from well before to just after the first boundary.
    for (let offset = 16384 - 12; offset <= 16384 + 2; offset++) {
      const source = '/'.repeat(offset) + 'EchoBot;\n' + '/'.repeat(40000);
      const archive = buildPlugin({ files: { 'echo.js': source } });
      await expect(readPluginArchive(archive)).resolves.toMatchObject({ mainClass: 'EchoBot' });
    }
  });

  it('when the file is a Windows-style zip with folder entries, then folders are ignored', async () => {
    const archive = buildZip({
      'maubot.yaml': 'id: a.b\nversion: "1"\nmodules: [x]\nmain_class: X\n',
      'x/': '',
      'x/index.js': 'class X {}',
    });
    await expect(readPluginArchive(archive)).resolves.toMatchObject({
      modulePaths: { x: 'x/index.js' },
    });
  });
});

describe('readPluginArchive: not a plugin archive', () => {
  it('when the body is empty, then it is not a plugin', async () => {
    await expectInvalid(Buffer.alloc(0), NOT_A_PLUGIN, /end of central directory/i);
  });

  it('when the body is random bytes, then it is not a plugin', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    await expectInvalid(bytes, NOT_A_PLUGIN, /end of central directory/i);
  });

  it('when a valid zip is cut in half, then it is not a plugin', async () => {
    const archive = buildPlugin();
    await expectInvalid(archive.subarray(0, archive.length >> 1), NOT_A_PLUGIN, /truncated/);
  });

  it('when maubot.yaml is only in a subfolder, then the definition is missing', async () => {
    const archive = buildZip({
      'echo/maubot.yaml': 'id: a\nversion: "1"\nmodules: [echo]\nmain_class: EchoBot\n',
      'echo.js': 'class EchoBot {}',
    });
    await expectInvalid(archive, NO_DEFINITION, 'no maubot.yaml at archive root');
  });

  it('when maubot.yaml differs only in case, then the definition is missing', async () => {
    const archive = buildZip({ 'Maubot.yaml': 'id: a\n', 'echo.js': '' });
    await expectInvalid(archive, NO_DEFINITION, 'no maubot.yaml at archive root');
  });

  it('when maubot.yaml fails its CRC check, then it is not a plugin', async () => {
    const archive = buildPlugin({ level: 0, meta: 'id: xyz\n' });
    const at = archive.indexOf('id: xyz');
    archive[at + 4] = 'q'.charCodeAt(0);
    await expectInvalid(archive, NOT_A_PLUGIN, 'entry maubot.yaml: CRC-32 mismatch');
  });

  it('when two entries have the same name, then it is not a plugin', async () => {
    const archive = buildPlugin({ files: { 'maubot.yamX': 'id: other\n' } });
    // fflate cannot write a duplicate name; rename the second entry in both headers.
    const fake = Buffer.from('maubot.yamX');
    for (let at = archive.indexOf(fake); at >= 0; at = archive.indexOf(fake, at + 1)) {
      archive.write('maubot.yaml', at);
    }
    await expectInvalid(archive, NOT_A_PLUGIN, 'duplicate entry maubot.yaml');
  });
});

describe('readPluginArchive: unsafe archives', () => {
  it.each([
    ['../evil.js', 'unsafe entry name "../evil.js" (invalid relative path)'],
    ['/abs.js', 'unsafe entry name "/abs.js" (absolute path)'],
    ['a/../../b.js', 'unsafe entry name "a/../../b.js" (invalid relative path)'],
    ['C:/windows.js', 'unsafe entry name "C:/windows.js" (absolute path)'],
    ['a\\b.js', 'unsafe entry name "a\\\\b.js" (invalid characters in fileName)'],
    ['a\0b.js', 'unsafe entry name "a\\u0000b.js"'],
  ])('when an entry is named %j, then the archive is rejected', async (name, detail) => {
    await expectInvalid(buildPlugin({ files: { [name]: 'x' } }), NOT_A_PLUGIN, detail);
  });

  it('when an entry of zeros inflates over 200 times its size, then it is a zip bomb', async () => {
    const archive = buildPlugin({
      level: 1,
      files: { 'zeros.bin': Buffer.alloc(64 * 1024 * 1024) },
    });
    expect(archive.length).toBeLessThan(1024 * 1024);
    await expectInvalid(archive, NOT_A_PLUGIN, 'entry zeros.bin has a compression ratio over 200');
  });

  describe('500 entries of 1 MiB of zeros (each under the per-entry check)', () => {
    let bomb: Buffer;
    beforeAll(() => {
      const zeros = Buffer.alloc(1024 * 1024);
      const files: Record<string, Buffer> = {};
      for (let i = 0; i < 500; i++) files[`zeros/${i}.bin`] = zeros;
      bomb = buildPlugin({ level: 9, files });
    });

    it('when it is uploaded, then it is rejected as a bomb', async () => {
      expect(bomb.length).toBeLessThan(1024 * 1024);
      await expectInvalid(bomb, NOT_A_PLUGIN, 'archive has a compression ratio over 200');
    });

    it('when an instance loads it (stored before the check), then it is rejected before anything is inflated', async () => {
      // The message comes from the central directory check, which runs before any inflation.
      await expect(readPluginFiles(bomb)).rejects.toThrow(
        new PluginInvalidError(NOT_A_PLUGIN, 'archive has a compression ratio over 200'),
      );
    });
  });

  it('when an instance loads an archive over the size limit, then it is rejected', async () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxUncompressedBytes: 4096 };
    const archive = buildPlugin({ level: 0, files: { 'big.txt': 'x'.repeat(5000) } });
    await expect(readPluginFiles(archive, limits)).rejects.toThrow('File is not a maubot plugin');
    const { files } = await readPluginFiles(buildPlugin({ files: { 'a.txt': 'abc' } }));
    expect(files.get('a.txt')!.toString()).toBe('abc');
    expect([...files.keys()].sort()).toEqual(['a.txt', 'echo.js', 'maubot.yaml']);
  });

  it('when a small entry compresses well, then the ratio is not checked', async () => {
    const archive = buildPlugin({ files: { 'zeros.bin': Buffer.alloc(1024 * 1024) } });
    await expect(readPluginArchive(archive)).resolves.toBeDefined();
  });

  it('when the entries expand beyond the limit, then the archive is rejected', async () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxUncompressedBytes: 4096 };
    const archive = buildPlugin({ level: 0, files: { 'big.txt': 'x'.repeat(5000) } });
    await expectInvalid(archive, NOT_A_PLUGIN, 'archive expands to more than 4096 bytes', limits);
  });

  it('when the archive has more entries than the limit, then it is rejected', async () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 2 };
    await expectInvalid(
      buildPlugin({ files: { 'README.md': '' } }),
      NOT_A_PLUGIN,
      'archive has more than 2 entries',
      limits,
    );
    await expect(readPluginArchive(buildPlugin(), limits)).resolves.toBeDefined();
  });

  it('when the default limits are used, then they allow 10 000 entries and 512 MiB', () => {
    expect(DEFAULT_ARCHIVE_LIMITS).toEqual({
      maxEntries: 10_000,
      maxUncompressedBytes: 512 * 1024 * 1024,
      maxCompressionRatio: 200,
    });
  });
});

describe('readPluginArchive: invalid definitions', () => {
  it.each(['id', 'version', 'modules', 'main_class'])(
    'when %s is missing, then the definition is invalid',
    async (key) => {
      await expectInvalid(
        buildPlugin({ meta: { [key]: undefined } }),
        INVALID,
        `${key}: required key is missing`,
      );
    },
  );

  it.each(['id', 'version', 'modules', 'main_class'])(
    'when %s is null, then the definition is invalid',
    async (key) => {
      await expectInvalid(
        buildPlugin({ meta: { [key]: null } }),
        INVALID,
        `${key}: must not be null`,
      );
    },
  );

  it('when the version is not PEP 440, then the definition is invalid', async () => {
    await expectInvalid(
      buildPlugin({ meta: { version: 'banana' } }),
      INVALID,
      'version: "banana" is not a valid PEP 440 version',
    );
  });

  it('when the version is a YAML float, then the definition is invalid', async () => {
    const meta = 'id: a.b\nversion: 1.0\nmodules: [echo]\nmain_class: EchoBot\n';
    await expectInvalid(buildPlugin({ meta }), INVALID, 'version: expected a string, got a number');
  });

  it.each(['1.99999999999999999999', '9007199254740993', '1.0.post1234567890123456789012'])(
    'when the version %s has a number JavaScript cannot hold exactly, then it is invalid',
    async (version) => {
      await expectInvalid(
        buildPlugin({ meta: { version } }),
        INVALID,
        `version: "${version}" is not a valid PEP 440 version`,
      );
    },
  );

  it('when the maubot version is not PEP 440, then the definition is invalid', async () => {
    await expectInvalid(
      buildPlugin({ meta: { maubot: 'latest' } }),
      INVALID,
      'maubot: "latest" is not a valid PEP 440 version',
    );
  });

  it('when the plugin needs a newer maubot, then it is rejected with both versions', async () => {
    await expectInvalid(
      buildPlugin({ meta: { maubot: 'v9.0' } }),
      'Plugin requires maubot 9.0, but this instance is 0.6.0',
      'maubot: 9.0 > 0.6.0',
    );
    await expectInvalid(
      buildPlugin({ meta: { maubot: '0.6.1.dev1' } }),
      'Plugin requires maubot 0.6.1.dev1, but this instance is 0.6.0',
      'maubot: 0.6.1.dev1 > 0.6.0',
    );
  });

  it('when modules is a string, then the definition is invalid', async () => {
    await expectInvalid(
      buildPlugin({ meta: { modules: 'echo' } }),
      INVALID,
      'modules: expected a list of strings, got a string',
    );
  });

  it('when a module name is null or empty, then the definition is invalid', async () => {
    await expectInvalid(
      buildPlugin({ meta: { modules: ['echo', null] } }),
      INVALID,
      'modules[1]: expected a string, got null',
    );
    await expectInvalid(
      buildPlugin({ meta: { modules: [''] } }),
      INVALID,
      'modules[0]: module name is empty',
    );
    await expectInvalid(
      buildPlugin({ meta: { modules: [] } }),
      INVALID,
      'modules: expected at least one module',
    );
  });

  it.each([
    ['database', 'yes', 'database: expected true or false, got a string'],
    ['main_class', ['EchoBot'], 'main_class: expected a string, got a list'],
    ['id', 42, 'id: expected a string, got a number'],
    ['license', { spdx: 'MIT' }, 'license: expected a string, got a mapping'],
    ['dependencies', 'aiohttp', 'dependencies: expected a list of strings, got a string'],
    ['main_class', 'echo/', 'main_class: "echo/" is not Class or Module/Class'],
  ])('when %s is %j, then the definition is invalid', async (key, value, detail) => {
    await expectInvalid(buildPlugin({ meta: { [key]: value } }), INVALID, detail);
  });

  it('when maubot.yaml is not valid YAML, then it says so with the parser’s message', async () => {
    const error = await rejection(buildPlugin({ meta: 'id: [unclosed\nversion: "1"\n' }));
    expect(error.message).toBe(NOT_YAML);
    expect(error.detail).toMatch(/flow sequence|line \d+/i);
  });

  it('when maubot.yaml repeats a key, then it is not valid YAML', async () => {
    await expectInvalid(buildPlugin({ meta: 'id: a\nid: b\n' }), NOT_YAML, /unique/i);
  });

  it('when aliases expand too much, then it is not valid YAML', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${'a' + i}: &a${i} [${Array(10)
          .fill(i === 1 ? '*a' : `*a${i - 1}`)
          .join(', ')}]`,
      );
    const error = await rejection(buildPlugin({ meta: lines.join('\n') + '\n' }));
    expect(error.message).toBe(NOT_YAML);
    expect(error.detail).toMatch(/alias/i);
  });

  it('when maubot.yaml has a custom tag, then it is kept as plain data', async () => {
    const { meta } = await readPluginArchive(
      buildPlugin({
        meta: 'id: a.b\nversion: "1"\nmodules: [echo]\nmain_class: EchoBot\nx: !!python/object:os.system "ls"\n',
      }),
    );
    expect(meta.x).toBe('ls');
  });

  it('when maubot.yaml is not UTF-8, then it is not valid YAML', async () => {
    await expectInvalid(
      buildPlugin({ meta: Buffer.from([0x69, 0x64, 0x3a, 0x20, 0xff]) }),
      NOT_YAML,
      'maubot.yaml is not valid UTF-8',
    );
  });

  it.each([
    ['a list', '- id: a\n- version: "1"\n', 'expected a mapping, got a list'],
    ['a scalar', 'just text\n', 'expected a mapping, got a string'],
    ['empty', '', 'expected a mapping, got an empty document'],
    ['only comments', '# nothing\n', 'expected a mapping, got an empty document'],
    ['null', '~\n', 'expected a mapping, got an empty document'],
  ])('when maubot.yaml is %s, then the definition is invalid', async (_what, meta, detail) => {
    await expectInvalid(buildPlugin({ meta }), INVALID, detail);
  });

  it('when maubot.yaml is larger than 1 MiB, then it is not read', async () => {
    const meta = `id: a.b\n#${'x'.repeat(1024 * 1024)}\n`;
    // Stored, or the compression ratio check would refuse it first.
    await expectInvalid(
      buildPlugin({ meta, level: 0 }),
      INVALID,
      'maubot.yaml is larger than 1 MiB',
    );
  });

  it.each(['../evil', 'a/b', 'has space', '', '.hidden', 'a..b', 'x'.repeat(256)])(
    'when the plugin id is %j, then it is not valid',
    async (id) => {
      const error = await rejection(buildPlugin({ meta: { id } }));
      expect(error.message).toBe(
        `Plugin ID ${id} is not valid: use letters, digits, ".", "_" and "-" (like xyz.maubot.example)`,
      );
      expect(error.detail).toContain('does not match');
    },
  );

  it.each(['xyz.maubot.echo', 'a', 'A-b_c.9', '0x', 'x'.repeat(255)])(
    'when the plugin id is %j, then it is valid',
    (id) => {
      expect(PLUGIN_ID_PATTERN.test(id)).toBe(true);
    },
  );
});

describe('readPluginArchive: modules', () => {
  it('when the main module is missing, then it says which', async () => {
    await expectInvalid(
      buildPlugin({ files: { 'echo.js': null, 'other.js': 'class EchoBot {}' } }),
      'Main module echo not found in file',
      'none of echo.js, echo.mjs, echo/index.js, echo/__init__.py, echo.py is in the archive',
    );
  });

  it('when main_class names a missing module, then that main module is not found', async () => {
    await expectInvalid(
      buildPlugin({ meta: { main_class: 'bot/EchoBot' } }),
      'Main module bot not found in file',
      /^none of bot\.js/,
    );
  });

  it('when another module is missing, then it says which', async () => {
    await expectInvalid(
      buildPlugin({ meta: { modules: ['util', 'echo'] } }),
      'Module util not found in file',
      'none of util.js, util.mjs, util/index.js is in the archive',
    );
  });

  it('when a module is of the other language, then it is not found', async () => {
    await expectInvalid(
      buildPlugin({ meta: { modules: ['util', 'echo'] }, files: { 'util.py': '' } }),
      'Module util not found in file',
      'util.py is Python, but the main module is JavaScript',
    );
  });

  it('when the main module is missing as well as the class, then the module is reported first', async () => {
    await expectInvalid(
      buildPlugin({ meta: { modules: ['util', 'echo'] }, files: { 'echo.js': null } }),
      'Main module echo not found in file',
      /^none of echo\.js/,
    );
  });

  it.each([
    ['class Other {}', 'not mentioned'],
    ['class EchoBotter {}', 'a longer name'],
    ['class MyEchoBot {}', 'a name ending in it'],
    ['const $EchoBot = 1;', 'a JavaScript name with $'],
  ])('when the main module has %j (%s), then the main class is not in it', async (source) => {
    await expectInvalid(
      buildPlugin({ files: { 'echo.js': source } }),
      'Main class EchoBot not in echo',
      'echo.js does not mention EchoBot',
    );
  });

  it('when the main class is missing, then this is checked before the other modules', async () => {
    await expectInvalid(
      buildPlugin({ meta: { modules: ['util', 'echo'] }, files: { 'echo.js': '' } }),
      'Main class EchoBot not in echo',
      'echo.js does not mention EchoBot',
    );
  });

  it('when a near miss lies across the inflater’s output chunks, then it does not count', async () => {
    for (let offset = 16384 - 20; offset <= 16384 + 2; offset++) {
      const source = '/'.repeat(offset) + 'xEchoBot EchoBotx' + '/'.repeat(40000);
      await expectInvalid(
        buildPlugin({ files: { 'echo.js': source } }),
        'Main class EchoBot not in echo',
        'echo.js does not mention EchoBot',
      );
    }
  });
});
