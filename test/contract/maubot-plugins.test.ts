import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import type { Database } from '../../src/db/database';
import { UploadSpool, uploadSpoolDir } from '../../src/api/maubot/archive-upload';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_DATA_DIR } from '../helpers/config';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { buildPlugin, buildZip } from '../helpers/zip';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';
const INVALID = 'plugin_invalid';

describe.each(testDatabaseKinds())('maubot plugin API (%s database)', (kind) => {
  let db: Database;
  let t: TestApp;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    t = await createTestApp(kind, { db });
  });
  afterAll(async () => {
    await t.close();
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('plugin').delete();
    await db.knex('plugin_archive').delete();
  });

  const auth = () => ({ Authorization: `Bearer ${t.token}` });
  const upload = (body: Buffer, query = '') =>
    request(t.app)
      .post(`${API}/plugins/upload${query}`)
      .set(auth())
      .set('Content-Type', 'application/zip')
      .send(body);
  const put = (id: string, body: Buffer) =>
    request(t.app)
      .put(`${API}/plugin/${id}`)
      .set(auth())
      .set('Content-Type', 'application/zip')
      .send(body);

  describe('POST /plugins/upload', () => {
    it('when a new plugin is uploaded, then 201 with the plugin and it is stored', async () => {
      const res = await upload(buildPlugin({ meta: { version: '1.0.0-beta' } }));
      expectAnswer(res, 201, {
        id: 'xyz.maubot.echo',
        version: '1.0.0b0',
        instances: [],
        loader: 'javascript',
      });
      const rows = await db.knex('plugin').select('id', 'version', 'loader');
      expect(rows).toEqual([{ id: 'xyz.maubot.echo', version: '1.0.0b0', loader: 'javascript' }]);
      // The archive is stored once, and it is the one the plugin row points at.
      const archives = await db.knex('plugin_archive').pluck('id');
      expect(archives).toHaveLength(1);
      expect(await db.knex('plugin').pluck('archive_id')).toEqual(archives);
    });

    it('when a Python plugin is uploaded, then it is stored and marked as such', async () => {
      const res = await upload(
        buildPlugin({
          meta: { id: 'xyz.maubot.pyecho', modules: ['echo'] },
          files: { 'echo.js': null, 'echo.py': 'class EchoBot(Plugin):\n    pass\n' },
        }),
      );
      expect(res.status).toBe(201);
      expect(res.body.loader).toBe('python');
    });

    it('when the id exists and allow_override is absent, then 409 plugin_exists and nothing changes', async () => {
      await upload(buildPlugin());
      const res = await upload(buildPlugin({ meta: { version: '2.0' } }));
      expectAnswer(res, 409, {
        error: 'A plugin with the same ID as the uploaded plugin already exists',
        errcode: 'plugin_exists',
      });
      expect(await db.knex('plugin').pluck('version')).toEqual(['1.0.0']);
      expect(Number((await db.knex('plugin_archive').count({ n: '*' }))[0]!.n)).toBe(1);
    });

    it.each(['true', 'false', '0', 'x'])(
      'when allow_override=%s (any non-empty value), then the plugin is replaced with 200',
      async (value) => {
        await upload(buildPlugin());
        const res = await upload(
          buildPlugin({ meta: { version: 'v2.0' } }),
          `?allow_override=${value}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.version).toBe('2.0');
        expect(await db.knex('plugin').pluck('version')).toEqual(['2.0']);
        expect(Number((await db.knex('plugin_archive').count({ n: '*' }))[0]!.n)).toBe(1);
      },
    );

    it('when allow_override is empty, then it counts as absent (409)', async () => {
      await upload(buildPlugin());
      expect((await upload(buildPlugin(), '?allow_override=')).status).toBe(409);
    });

    it('when the same version or a downgrade is uploaded with override, then it is accepted', async () => {
      await upload(buildPlugin({ meta: { version: '2.0' } }));
      expect(
        (await upload(buildPlugin({ meta: { version: '2.0' } }), '?allow_override=1')).status,
      ).toBe(200);
      const down = await upload(buildPlugin({ meta: { version: '1.0' } }), '?allow_override=1');
      expect(down.status).toBe(200);
      expect(down.body.version).toBe('1.0');
    });

    it('when a replacement is invalid, then 400 and the previous version stays', async () => {
      await upload(buildPlugin());
      const res = await upload(
        buildPlugin({ meta: { version: '3.0' }, files: { 'echo.js': 'nothing here' } }),
        '?allow_override=1',
      );
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe(INVALID);
      expect(res.body.error).toBe('Main class EchoBot not in echo');
      const get = await request(t.app).get(`${API}/plugin/xyz.maubot.echo`).set(auth());
      expect(get.body.version).toBe('1.0.0');
    });

    it('when sent as multipart/form-data with a file part, then it is accepted like a raw zip', async () => {
      const res = await request(t.app)
        .post(`${API}/plugins/upload`)
        .set(auth())
        .attach('file', buildPlugin(), { filename: 'echo.mbp', contentType: 'application/zip' });
      expect(res.status).toBe(201);
      expect(res.body.id).toBe('xyz.maubot.echo');
    });

    // maubot reads any body that is not multipart as the zip; curl --data-binary sends
    // application/x-www-form-urlencoded, and a bare client may send no type at all.
    it.each([
      ['application/x-www-form-urlencoded'],
      ['image/png'],
      ['application/octet-stream'],
      [undefined],
    ])('when the content type is %s, then the body is read as the zip (201)', async (type) => {
      const archive = buildPlugin();
      // superagent would encode a Buffer as a form; the bytes must go as they are.
      const r = request(t.app)
        .post(`${API}/plugins/upload`)
        .set(auth())
        .serialize((bytes: Buffer) => bytes as unknown as string)
        .send(archive);
      const res = await (type ? r.set('Content-Type', type) : r.unset('Content-Type'));
      expect(res.status).toBe(201);
      expect(res.body.id).toBe('xyz.maubot.echo');
      expect(await db.knex('plugin').pluck('id')).toEqual(['xyz.maubot.echo']);
    });

    it('when there is no body at all, then 400 "File is not a maubot plugin", as maubot', async () => {
      const res = await request(t.app).post(`${API}/plugins/upload`).set(auth());
      expectAnswer(res, 400, {
        errcode: INVALID,
        error: 'File is not a maubot plugin',
        stacktrace: expect.any(String),
      });
    });

    it('when the archive is over 100 MiB, then 413 and nothing is stored', async () => {
      const res = await upload(Buffer.alloc(100 * 1024 * 1024 + 1));
      expectAnswer(res, 413, {
        error: 'Request body is too large',
        errcode: 'unhandled_http_413',
      });
      expect(await db.knex('plugin').pluck('id')).toEqual([]);
      expect(await db.knex('plugin_archive').pluck('id')).toEqual([]);
    });

    it('when no token is sent, then 401 before anything is read', async () => {
      const res = await request(t.app)
        .post(`${API}/plugins/upload`)
        .set('Content-Type', 'application/zip')
        .send(buildPlugin());
      expect(res.status).toBe(401);
      expect(res.body.errcode).toBe('auth_token_missing');
    });
  });

  describe("rejections (400 plugin_invalid with maubot's message)", () => {
    const yaml = (text: string) => buildZip({ 'maubot.yaml': text, 'echo.js': 'class EchoBot {}' });
    const cases: [string, Buffer, string][] = [
      ['an empty body', Buffer.alloc(0), 'File is not a maubot plugin'],
      ['random bytes', Buffer.from('this is not a zip file at all'), 'File is not a maubot plugin'],
      ['a truncated zip', buildPlugin().subarray(0, 60), 'File is not a maubot plugin'],
      [
        'no maubot.yaml',
        buildZip({ 'echo.js': 'class EchoBot {}' }),
        'File does not contain a maubot plugin definition',
      ],
      [
        'maubot.yaml in a subfolder',
        buildZip({ 'sub/maubot.yaml': 'id: a', 'echo.js': 'x' }),
        'File does not contain a maubot plugin definition',
      ],
      ['invalid YAML', yaml('id: [unclosed\n'), 'Maubot plugin definition file is not valid YAML'],
      [
        'YAML that is a list',
        yaml('- id\n- version\n'),
        'Maubot plugin definition in file is invalid',
      ],
      ['an empty maubot.yaml', yaml(''), 'Maubot plugin definition in file is invalid'],
      [
        'a missing id',
        buildPlugin({ meta: { id: undefined } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'a missing version',
        buildPlugin({ meta: { version: undefined } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'missing modules',
        buildPlugin({ meta: { modules: undefined } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'a missing main_class',
        buildPlugin({ meta: { main_class: undefined } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'a bad version',
        buildPlugin({ meta: { version: 'banana' } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'a bad maubot version',
        buildPlugin({ meta: { maubot: 'not-a-version' } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'modules as a string',
        buildPlugin({ meta: { modules: 'echo' } }),
        'Maubot plugin definition in file is invalid',
      ],
      [
        'a future maubot version',
        buildPlugin({ meta: { maubot: '9.0' } }),
        'Plugin requires maubot 9.0, but this instance is 0.6.0',
      ],
      [
        'a missing module',
        buildPlugin({ meta: { modules: ['helper', 'echo'] } }),
        'Module helper not found in file',
      ],
      [
        'a missing main module',
        buildPlugin({ meta: { main_class: 'other/EchoBot' } }),
        'Main module other not found in file',
      ],
      [
        'a main class not in its module',
        buildPlugin({ meta: { main_class: 'Missing' } }),
        'Main class Missing not in echo',
      ],
      [
        'an unsafe id with a slash',
        buildPlugin({ meta: { id: 'a/b' } }),
        'Plugin ID a/b is not valid: use letters, digits, ".", "_" and "-" (like xyz.maubot.example)',
      ],
      [
        'an unsafe id with dots',
        buildPlugin({ meta: { id: '../evil' } }),
        'Plugin ID ../evil is not valid: use letters, digits, ".", "_" and "-" (like xyz.maubot.example)',
      ],
      [
        'an unsafe id with a space',
        buildPlugin({ meta: { id: 'has space' } }),
        'Plugin ID has space is not valid: use letters, digits, ".", "_" and "-" (like xyz.maubot.example)',
      ],
      [
        'a zip-slip entry name',
        buildPlugin({ files: { '../evil.js': 'x' } }),
        'File is not a maubot plugin',
      ],
      [
        'an absolute entry name',
        buildPlugin({ files: { '/abs.js': 'x' } }),
        'File is not a maubot plugin',
      ],
      [
        'a zip bomb',
        buildPlugin({ files: { 'bomb.bin': Buffer.alloc(16 * 1024 * 1024) } }),
        'File is not a maubot plugin',
      ],
    ];

    it.each(cases)(
      'when the archive has %s, then 400 with the message and a stacktrace cause',
      async (_n, body, message) => {
        const res = await upload(body);
        expectAnswer(res, 400, {
          error: message,
          errcode: INVALID,
          stacktrace: expect.any(String),
        });
        expect(res.body.stacktrace.length).toBeGreaterThan(0);
        expect(Number((await db.knex('plugin').count({ n: '*' }))[0]!.n)).toBe(0);
        expect(Number((await db.knex('plugin_archive').count({ n: '*' }))[0]!.n)).toBe(0);
      },
    );
  });

  describe('spooled uploads', () => {
    it('when uploads succeed, fail or come as multipart, then no spooled file is left behind', async () => {
      await upload(buildPlugin());
      await upload(Buffer.from('not a zip'));
      await upload(buildPlugin(), '');
      await request(t.app)
        .put(`${API}/plugin/xyz.maubot.echo`)
        .set(auth())
        .attach('file', buildPlugin(), { filename: 'echo.mbp', contentType: 'application/zip' });
      // Files are removed when each response closes; give the removals a moment.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await readdir(uploadSpoolDir(TEST_DATA_DIR))).toEqual([]);
    });
  });

  it('when a killed process left spool files, then the next spool removes them at start', async () => {
    const dir = uploadSpoolDir(TEST_DATA_DIR);
    await writeFile(join(dir, 'left-behind'), 'x');
    new UploadSpool(1, dir);
    expect(await readdir(dir)).toEqual([]);
  });

  describe('multipart limits', () => {
    it.each([
      [
        'two file parts',
        413,
        'unhandled_http_413',
        (r: request.Test) =>
          r
            .attach('file', buildPlugin(), { filename: 'a.mbp', contentType: 'application/zip' })
            .attach('other', buildPlugin(), { filename: 'b.mbp', contentType: 'application/zip' }),
      ],
      [
        'many fields',
        400,
        'invalid_request',
        (r: request.Test) => {
          for (let i = 0; i < 50; i++) r.field(`f${i}`, 'x');
          return r.attach('file', buildPlugin(), { filename: 'a.mbp' });
        },
      ],
      [
        'a long field',
        400,
        'invalid_request',
        (r: request.Test) =>
          r.field('note', 'x'.repeat(4096)).attach('file', buildPlugin(), { filename: 'a.mbp' }),
      ],
    ])(
      'when a multipart upload has %s, then %i %s, nothing stored, no spool file left',
      async (_n, status, errcode, build) => {
        const res = await build(request(t.app).post(`${API}/plugins/upload`).set(auth()));
        expect(res.status).toBe(status);
        expect(res.body.errcode).toBe(errcode);
        expect(Number((await db.knex('plugin').count({ n: '*' }))[0]!.n)).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await readdir(uploadSpoolDir(TEST_DATA_DIR))).toEqual([]);
      },
    );
  });

  describe('unreadable multipart bodies', () => {
    it.each([
      ['truncated after the boundary', '--x\r\nbroken'],
      ['with a broken part header', '--x\r\nContent-Disposition\r\n\r\nx\r\n--x--\r\n'],
      [
        'cut off inside a file part',
        '--x\r\nContent-Disposition: form-data; name="file"; filename="a.mbp"\r\n\r\nPK',
      ],
    ])(
      'when the body is %s, then 400 invalid_request on upload and PUT, nothing stored, no spool file left',
      async (_name, body) => {
        for (const r of [
          request(t.app).post(`${API}/plugins/upload`),
          request(t.app).put(`${API}/plugin/xyz.maubot.echo`),
        ]) {
          const res = await r
            .set(auth())
            .set('Content-Type', 'multipart/form-data; boundary=x')
            .send(body);
          expect(res.status).toBe(400);
          expect(res.body.errcode).toBe('invalid_request');
          expect(res.body.error).toMatch(/^The multipart body could not be read: /);
        }
        expect(Number((await db.knex('plugin').count({ n: '*' }))[0]!.n)).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await readdir(uploadSpoolDir(TEST_DATA_DIR))).toEqual([]);
      },
    );
  });

  describe('concurrent operations on one plugin', () => {
    it('when 20 uploads, replacements, reloads and deletes of one id race, then none is a 5xx and archives = plugins', async () => {
      const id = 'xyz.maubot.echo';
      const ops = Array.from({ length: 20 }, (_, i) => {
        const version = `1.0.${i}`;
        switch (i % 5) {
          case 0:
            return put(id, buildPlugin({ meta: { version } }));
          case 1:
            return upload(buildPlugin({ meta: { version } }), '?allow_override=true');
          case 2:
            return request(t.app).post(`${API}/plugin/${id}/reload`).set(auth());
          case 3:
            return request(t.app).delete(`${API}/plugin/${id}`).set(auth());
          default:
            return request(t.app).get(`${API}/plugin/${id}`).set(auth());
        }
      });
      const statuses = (await Promise.all(ops)).map((r) => r.status);
      expect(statuses.filter((s) => s >= 500)).toEqual([]);
      expect(statuses.every((s) => [200, 201, 204, 404].includes(s))).toBe(true);
      const plugins = Number((await db.knex('plugin').count({ n: '*' }))[0]!.n);
      const archives = Number((await db.knex('plugin_archive').count({ n: '*' }))[0]!.n);
      expect(archives).toBe(plugins);
    });

    it('when archives are left that no plugin points at, then the startup sweep removes only those', async () => {
      expect((await upload(buildPlugin())).status).toBe(201);
      await db.knex('plugin_archive').insert({
        plugin_id: 'xyz.maubot.echo',
        sha256: 'left-by-a-killed-process',
        size: 3,
        data: Buffer.from('zip'),
      });
      await t.plugins.removeUnusedArchives();
      const kept = await db.knex('plugin_archive').pluck('id');
      expect(kept).toEqual(await db.knex('plugin').pluck('archive_id'));
      expect((await request(t.app).get(`${API}/plugin/xyz.maubot.echo`).set(auth())).status).toBe(
        200,
      );
    });
  });

  describe('PUT /plugin/{id}', () => {
    it('when the id is new, then 201; when it exists, then 200 with the new version', async () => {
      const created = await put('xyz.maubot.echo', buildPlugin());
      expect(created.status).toBe(201);
      const replaced = await put('xyz.maubot.echo', buildPlugin({ meta: { version: '1.1.0' } }));
      expectAnswer(replaced, 200, {
        id: 'xyz.maubot.echo',
        version: '1.1.0',
        instances: [],
        loader: 'javascript',
      });
    });

    it('when the archive id differs from the path id, then 400 pid_mismatch', async () => {
      const res = await put('xyz.maubot.other', buildPlugin());
      expectAnswer(res, 400, {
        error: 'The ID in the path does not match the ID of the uploaded plugin',
        errcode: 'pid_mismatch',
      });
      expect(Number((await db.knex('plugin').count({ n: '*' }))[0]!.n)).toBe(0);
    });
  });

  describe('GET, DELETE, reload', () => {
    it('when listing, then plugins come in upload order', async () => {
      await upload(buildPlugin({ meta: { id: 'b.plugin' } }));
      await upload(buildPlugin({ meta: { id: 'a.plugin' } }));
      const res = await request(t.app).get(`${API}/plugins`).set(auth());
      expect(res.status).toBe(200);
      expect(res.body.map((p: { id: string }) => p.id)).toEqual(['b.plugin', 'a.plugin']);
    });

    it('when a plugin is unknown, then GET, DELETE and reload answer 404 plugin_not_found', async () => {
      const notFound = { error: 'Plugin not found', errcode: 'plugin_not_found' };
      for (const req of [
        request(t.app).get(`${API}/plugin/nope`),
        request(t.app).delete(`${API}/plugin/nope`),
        request(t.app).post(`${API}/plugin/nope/reload`),
      ]) {
        const res = await req.set(auth());
        expectAnswer(res, 404, notFound);
      }
    });

    it('when deleted, then 204, the rows are gone and GET is 404', async () => {
      await upload(buildPlugin());
      const del = await request(t.app).delete(`${API}/plugin/xyz.maubot.echo`).set(auth());
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect(Number((await db.knex('plugin').count({ n: '*' }))[0]!.n)).toBe(0);
      expect(Number((await db.knex('plugin_archive').count({ n: '*' }))[0]!.n)).toBe(0);
      expect((await request(t.app).get(`${API}/plugin/xyz.maubot.echo`).set(auth())).status).toBe(
        404,
      );
    });

    it('when reloaded, then 200 {success: true}', async () => {
      await upload(buildPlugin());
      const res = await request(t.app).post(`${API}/plugin/xyz.maubot.echo/reload`).set(auth());
      expectAnswer(res, 200, { success: true });
    });

    it('when the stored archive no longer validates, then reload answers 500 plugin_reload_fail', async () => {
      await upload(buildPlugin());
      const [archiveId] = await db.knex('plugin').pluck('archive_id');
      await db
        .knex('plugin_archive')
        .where({ id: archiveId })
        .update({ data: Buffer.from('garbage') });
      const res = await request(t.app).post(`${API}/plugin/xyz.maubot.echo/reload`).set(auth());
      expectAnswer(res, 500, {
        error: 'File is not a maubot plugin',
        errcode: 'plugin_reload_fail',
        stacktrace: expect.any(String),
      });
    });
  });

  describe('full cycle and restart', () => {
    it('when uploaded, listed, replaced and deleted, and the app restarts in between, then the state persists', async () => {
      expect((await upload(buildPlugin())).status).toBe(201);
      expect((await upload(buildPlugin({ meta: { id: 'xyz.maubot.dice' } }))).status).toBe(201);
      const before = (await request(t.app).get(`${API}/plugins`).set(auth())).body;

      const restarted = await createTestApp(kind, { db });
      const after = await request(restarted.app).get(`${API}/plugins`).set(auth());
      expect(after.body).toEqual(before);

      const replaced = await upload(
        buildPlugin({ meta: { version: '2.0.0-rc1' } }),
        '?allow_override=1',
      );
      expect(replaced.status).toBe(200);
      expect(replaced.body.version).toBe('2.0.0rc1');
      // The other app learns of a change from the database's announcement of it.
      await db.changes.caughtUp();
      const got = await request(restarted.app).get(`${API}/plugin/xyz.maubot.echo`).set(auth());
      expect(got.body.version).toBe('2.0.0rc1');
      expect(
        (await request(restarted.app).delete(`${API}/plugin/xyz.maubot.echo`).set(auth())).status,
      ).toBe(204);
      await db.changes.caughtUp();
      expect((await request(t.app).get(`${API}/plugin/xyz.maubot.echo`).set(auth())).status).toBe(
        404,
      );
      await restarted.close();
    });
  });

  describe('concurrency', () => {
    it('when the same id is uploaded concurrently with override, then one row and one archive remain', async () => {
      const bodies = ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5'].map((v) =>
        buildPlugin({ meta: { version: v } }),
      );
      const results = await Promise.all(bodies.map((b) => upload(b, '?allow_override=1')));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 200)).toHaveLength(5);
      expect(Number((await db.knex('plugin').count({ n: '*' }))[0]!.n)).toBe(1);
      const archives = await db.knex('plugin_archive').select('id');
      expect(archives).toHaveLength(1);
      const [archiveId] = await db.knex('plugin').pluck('archive_id');
      expect(Number(archives[0].id)).toBe(Number(archiveId));
    });

    it('when the same new id is uploaded concurrently without override, then one 201 and the rest 409', async () => {
      const results = await Promise.all([1, 2, 3, 4].map(() => upload(buildPlugin())));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
      expect(Number((await db.knex('plugin_archive').count({ n: '*' }))[0]!.n)).toBe(1);
    });
  });
});

describe('plugin in use', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('embedded', {
      pluginInstances: {
        byPlugin: (_db, ids) =>
          Promise.resolve(
            new Map(
              ids.map((id) => [
                id,
                [
                  {
                    id: 'echobot',
                    type: id,
                    enabled: true,
                    started: false,
                    primary_user: '@bot:example.org',
                    config: '',
                    base_config: null,
                    database: false,
                    database_interface: null,
                    database_engine: null,
                  },
                ],
              ]),
            ),
          ),
      },
    });
  });
  afterAll(() => t.close());

  it('when an instance has the plugin type, then DELETE is 412 plugin_in_use and the plugin stays', async () => {
    const auth = { Authorization: `Bearer ${t.token}` };
    await request(t.app)
      .post(`${API}/plugins/upload`)
      .set(auth)
      .set('Content-Type', 'application/zip')
      .send(buildPlugin());
    const res = await request(t.app).delete(`${API}/plugin/xyz.maubot.echo`).set(auth);
    expectAnswer(res, 412, {
      error: 'Plugin instances of this type still exist',
      errcode: 'plugin_in_use',
    });
    const got = await request(t.app).get(`${API}/plugin/xyz.maubot.echo`).set(auth);
    expect(got.status).toBe(200);
    expect(got.body.instances.map((i: { id: string }) => i.id)).toEqual(['echobot']);
  });
});
