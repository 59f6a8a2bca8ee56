import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildPlugin } from '../../scripts/build-plugins';
import { createTestApp, type TestApp } from '../helpers/app';
import { botInRoom, type BotRoom } from '../helpers/bot-room';
import { maubotApi } from '../helpers/maubot-api';
import { captureLogs } from '../helpers/log-capture';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import type { Database } from '../../src/db/database';
import { waitFor } from '../helpers/wait';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const LIMITS = { memoryMb: 160, stallMs: 3000, startMs: 20_000, restartBaseMs: 300 };
const CS = '/_matrix/client/v3';

/** Plugins running for real: uploaded archives, plugin host processes, Matrix in and out. */
describe.each(testDatabaseKinds())('plugin instances end to end (%s)', (kind) => {
  let hs: TestHomeserver;
  let t: TestApp;
  let logs: ReturnType<typeof captureLogs>;
  let alice: RegisteredUser;
  let bot: RegisteredUser;
  let roomId: string;
  let db: Database;

  const api = () => maubotApi(t);

  let room: BotRoom;
  const say = (body: string) => room.say(body);
  const botSaid = (body: string) => room.botMessages().includes(body);

  /**
   * The bot's client has received everything up to `mark` (its next long-poll started after
   * it), and the instances had a moment to answer: silence now means no answer.
   */
  async function botCaughtUp(mark: number): Promise<void> {
    await waitFor(
      () => hs.requests.slice(mark).some((r) => r.userId === bot.userId && r.path === `${CS}/sync`),
      { what: 'the bot to sync' },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    logs = captureLogs('info');
    db = await openTestDatabase(kind);
    t = await createTestApp(kind, { db, logger: logs.logger, runtime: LIMITS });
    room = await botInRoom(hs, t);
    ({ alice, bot, roomId } = room);
  }, 30_000);
  afterAll(async () => {
    await t.close();
    await db.close();
    await hs.close();
  });

  it('runs the echo plugin: answers, stops, starts, is replaced, survives a broken replacement', async () => {
    const echo = await buildPlugin('echo');
    expect((await api().upload(echo.archive, '?allow_override=true')).status).toBe(201);

    const created = await api().put('/instance/Echo', {
      type: 'switchboard.echo',
      primary_user: bot.userId,
    });
    expectAnswer(created, 201, {
      id: 'echo',
      type: 'switchboard.echo',
      enabled: true,
      started: true,
      primary_user: bot.userId,
      config: '',
      base_config: null,
      database: false,
      database_interface: null,
      database_engine: null,
    });

    await say('!echo hello');
    await waitFor(() => botSaid('hello'), { what: 'the echo' });
    await say('!echo --help');
    await waitFor(() => botSaid('!echo: Repeat the text after the command'), { what: 'the help' });
    await say('!ping');
    await waitFor(
      () =>
        hs
          .roomEvents(roomId)!
          .some(
            (e) => e.sender === bot.userId && /^Pong! \(\d+ ms\)$/.test(String(e.content.body)),
          ),
      { what: 'the pong' },
    );

    const stopped = await api().put('/instance/echo', { started: false });
    expect(stopped.body).toMatchObject({ enabled: true, started: false });
    const mark = hs.requests.length;
    await say('!echo unheard');
    await botCaughtUp(mark);
    expect(botSaid('unheard')).toBe(false);

    expect((await api().put('/instance/echo', { started: true })).body.started).toBe(true);
    await say('!echo back');
    await waitFor(() => botSaid('back'), { what: 'the echo after a restart' });

    const v2 = await buildPlugin(
      'echo',
      { version: '1.1.0' },
      {
        echo: `const { Plugin } = require('switchboard-plugin');
class EchoBot extends Plugin {
  start() { this.command('echo', 'Echo, version 2', (e, args) => e.respond('v2: ' + args)); }
}
module.exports = { EchoBot };`,
      },
    );
    // The API keeps answering while the plugin is swapped.
    let polling = true;
    const statuses: number[] = [];
    const poller = (async () => {
      while (polling) statuses.push((await api().get('/instances')).status);
    })();
    const replaced = await api().upload(v2.archive, '?allow_override=true');
    polling = false;
    await poller;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: 'switchboard.echo', version: '1.1.0' });
    await say('!echo new');
    await waitFor(() => botSaid('v2: new'), { what: 'the new version' });

    const broken = await buildPlugin(
      'echo',
      { version: '1.2.0' },
      {
        echo: `throw new Error('this version is broken'); class EchoBot {}`,
      },
    );
    const refused = await api().upload(broken.archive, '?allow_override=true');
    expect(refused.status).toBe(400);
    expect(refused.body.errcode).toBe('plugin_invalid');
    expect(refused.body.error).toBe('Failed to start the new version of the plugin');
    expect(refused.body.stacktrace).toContain('this version is broken');
    expect((await api().get('/plugin/switchboard.echo')).body.version).toBe('1.1.0');
    expect((await api().get('/instance/echo')).body).toMatchObject({
      enabled: true,
      started: true,
    });
    await say('!echo still');
    await waitFor(() => botSaid('v2: still'), { what: 'the old version after the rollback' });
  }, 60_000);

  it('gives the dice plugin its base config merged with the instance config, and updates it live', async () => {
    const dice = await buildPlugin('dice');
    expect((await api().upload(dice.archive)).status).toBe(201);
    const created = await api().put('/instance/dice', {
      type: 'switchboard.dice',
      primary_user: bot.userId,
      config: 'max_dice: 2\n',
    });
    expect(created.body).toMatchObject({ started: true, config: 'max_dice: 2\n' });
    expect(created.body.base_config).toContain('max_sides: 1000');
    await say('!roll 3d6');
    await waitFor(() => botSaid('Between 1 and 2 dice, please'), { what: 'the config limit' });
    await api().put('/instance/dice', { config: 'max_dice: 5\nmax_sides: 6\n' });
    await say('!roll 1d20');
    await waitFor(() => botSaid('Between 2 and 6 sides, please'), { what: 'the new config' });
  }, 30_000);

  it("keeps the karma plugin's scores in its own database", async () => {
    const karma = await buildPlugin('karma');
    expect((await api().upload(karma.archive)).status).toBe(201);
    const created = await api().put('/instance/karma', {
      type: 'switchboard.karma',
      primary_user: bot.userId,
    });
    expect(created.body).toMatchObject({
      started: true,
      database: true,
      database_interface: 'asyncpg',
      database_engine: 'postgres',
    });
    await say('cats++');
    await say('cats++');
    await say('dogs--');
    await waitFor(
      () =>
        hs.roomEvents(roomId)!.filter((e) => e.sender === bot.userId && e.type === 'm.reaction')
          .length >= 3,
      { what: 'three reactions' },
    );
    await say('!karma cats');
    await waitFor(() => botSaid('cats has 2 karma'), { what: 'the score' });
    const { schema_name: schema } = await t.db
      .knex('instance_database')
      .where({ instance_id: 'karma' })
      .first();
    const rows = await t.db.knex.raw(`select thing, score from "${schema}".karma order by thing`);
    expect(rows.rows).toEqual([
      { thing: 'cats', score: 2 },
      { thing: 'dogs', score: -1 },
    ]);
  }, 30_000);

  it('lets a plugin read room state and make HTTP requests; reload restarts its instances', async () => {
    const receiver = createServer((_req, res) => res.end('hello from outside'));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    try {
      const plugin = await buildPlugin(
        'echo',
        { id: 'test.reader', main_class: 'Reader' },
        {
          echo: `const { Plugin } = require('switchboard-plugin');
class Reader extends Plugin {
  start() {
    this.command('creator', 'who made the room', async (e) => {
      const create = await this.client.getState(e.roomId, 'm.room.create');
      await e.respond('created by ' + create.creator);
    });
    this.command('fetch', 'fetch a URL', async (e, url) => {
      const res = await this.http(url);
      await e.respond('fetched: ' + (await res.text()));
    });
  }
}
module.exports = { Reader };`,
        },
      );
      expect((await api().upload(plugin.archive)).status).toBe(201);
      expect(
        (await api().put('/instance/reader', { type: 'test.reader', primary_user: bot.userId }))
          .body.started,
      ).toBe(true);
      await say('!creator');
      await waitFor(() => botSaid(`created by ${alice.userId}`), { what: 'the state read' });
      await say(`!fetch http://127.0.0.1:${port}/`);
      await waitFor(() => botSaid('fetched: hello from outside'), { what: 'the HTTP request' });

      const reload = await api().post('/plugin/test.reader/reload');
      expectAnswer(reload, 200, { success: true });
      expect(
        logs.lines.filter(
          (l) => l.logger === 'maubot.instance.reader' && l.msg === 'instance started',
        ),
      ).toHaveLength(2);
      await say('!creator');
      await waitFor(
        () =>
          hs
            .roomEvents(roomId)!
            .filter(
              (e) => e.sender === bot.userId && e.content.body === `created by ${alice.userId}`,
            ).length === 2,
        { what: 'an answer after the reload' },
      );
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 30_000);

  it("runs a plugin's instances as objects in one host process, its code loaded once; the host ends with its last instance", async () => {
    const plugin = await buildPlugin(
      'echo',
      { id: 'test.shared', main_class: 'Shared' },
      {
        echo: `const { Plugin } = require('switchboard-plugin');
globalThis.loads = (globalThis.loads || 0) + 1;
class Shared extends Plugin {
  start() {
    this.command(this.config.name, 'counts', (e) =>
      e.respond(this.config.name + ': loaded ' + globalThis.loads + ' time(s), pid ' + process.pid));
  }
}
module.exports = { Shared };`,
      },
    );
    expect((await api().upload(plugin.archive)).status).toBe(201);
    for (const name of ['one', 'two']) {
      const res = await api().put(`/instance/shared-${name}`, {
        type: 'test.shared',
        primary_user: bot.userId,
        config: `name: ${name}\n`,
      });
      expect(res.body).toMatchObject({ started: true });
    }
    const runtime = t.instances.runtime;
    const pid = runtime.hostOf('shared-one')!.pid!;
    expect(runtime.hostOf('shared-two')!.pid).toBe(pid);
    expect(runtime.hostOf('echo')!.pid).not.toBe(pid);
    await say('!one');
    await say('!two');
    await waitFor(() => botSaid(`one: loaded 1 time(s), pid ${pid}`), { what: 'one' });
    await waitFor(() => botSaid(`two: loaded 1 time(s), pid ${pid}`), { what: 'two' });

    await api().put('/instance/shared-one', { started: false });
    expect(() => process.kill(pid, 0)).not.toThrow();
    await api().put('/instance/shared-two', { started: false });
    await waitFor(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the host to exit' },
    );
    await api().delete('/instance/shared-one');
    await api().delete('/instance/shared-two');
  }, 30_000);

  describe('containment', () => {
    async function install(name: string, source: string): Promise<void> {
      const plugin = await buildPlugin(
        'echo',
        { id: `test.${name}`, main_class: 'Bad' },
        { echo: source },
      );
      expect((await api().upload(plugin.archive)).status).toBe(201);
      const res = await api().put(`/instance/${name}`, {
        type: `test.${name}`,
        primary_user: bot.userId,
      });
      expect(res.body).toMatchObject({ started: true });
    }

    const startedCount = (instance: string) =>
      logs.lines.filter(
        (l) => l.logger === `maubot.instance.${instance}` && l.msg === 'instance started',
      ).length;

    const logged = (instance: string, text: string) =>
      logs.lines.some(
        (l) => l.logger === `maubot.instance.${instance}` && String(l.msg).includes(text),
      );

    it('a handler that throws is logged and the plugin keeps answering', async () => {
      await install(
        'thrower',
        `const { Plugin } = require('switchboard-plugin');
class Bad extends Plugin {
  start() {
    this.command('boom', 'throws', () => { throw new Error('kaboom'); });
    this.command('later', 'throws later', () => { setTimeout(() => { throw new Error('too late'); }); });
    this.command('say', 'prints', () => console.log('printed by the plugin'));
    this.command('alive', 'answers', (e) => e.respond('thrower is alive'));
  }
}
module.exports = { Bad };`,
      );
      await say('!boom');
      await waitFor(() => logged('thrower', 'command !boom failed: Error: kaboom'), {
        what: 'the log',
      });
      // Console output and exceptions nobody caught go to the plugin's own log.
      const pluginLog = (level: number, text: string) =>
        logs.lines.some(
          (l) =>
            l.logger === 'maubot.plugin.test.thrower' &&
            l.level === level &&
            String(l.msg).startsWith(text),
        );
      await say('!say');
      await waitFor(() => pluginLog(30, 'printed by the plugin'), { what: 'the console line' });
      await say('!later');
      await waitFor(() => pluginLog(40, 'uncaught exception: Error: too late'), {
        what: 'the uncaught exception',
      });
      await say('!alive');
      await waitFor(() => botSaid('thrower is alive'), { what: 'the next answer' });
      expect(startedCount('thrower')).toBe(1);
    }, 30_000);

    it('a handler that never returns ends its plugin host, logged, and its instance starts again; other plugins carry on', async () => {
      await install(
        'looper',
        `const { Plugin } = require('switchboard-plugin');
class Bad extends Plugin {
  start() { this.command('loop', 'loops', () => { for (;;) {} }); }
}
module.exports = { Bad };`,
      );
      await say('!loop');
      await waitFor(() => logged('looper', 'did not respond for 3000 ms'), { what: 'the stall' });
      expect(logged('looper', 'restarting in 0.3 s')).toBe(true);
      await waitFor(() => startedCount('looper') === 2, { what: 'the restart' });
      expect((await api().get('/instance/looper')).body).toMatchObject({
        started: true,
        enabled: true,
      });
      await say('!echo after the loop');
      await waitFor(() => botSaid('v2: after the loop'), { what: 'echo still answering' });
    }, 30_000);

    it('a handler that allocates without bound ends its plugin host at the memory limit, logged, and its instance starts again', async () => {
      await install(
        'hog',
        `const { Plugin } = require('switchboard-plugin');
class Bad extends Plugin {
  start() { this.command('hog', 'eats memory', () => { const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); }); }
}
module.exports = { Bad };`,
      );
      await say('!hog');
      await waitFor(() => logged('hog', 'more than its memory limit of 160 MB'), {
        what: 'the memory limit',
        timeoutMs: 20_000,
      });
      await waitFor(() => startedCount('hog') === 2, { what: 'the restart' });
      expect((await api().get('/instance/hog')).body).toMatchObject({
        started: true,
        enabled: true,
      });
      await say('!echo after the hog');
      await waitFor(() => botSaid('v2: after the hog'), { what: 'echo still answering' });
    }, 30_000);
  });

  it('when Switchboard restarts, then enabled instances start with their clients; a plugin that fails only disables its own', async () => {
    const failing = await buildPlugin(
      'echo',
      { id: 'test.bootfail', main_class: 'Bad' },
      {
        echo: `const { Plugin } = require('switchboard-plugin');
class Bad extends Plugin { start() { throw new Error('cannot start today'); } }
module.exports = { Bad };`,
      },
    );
    expect((await api().upload(failing.archive)).status).toBe(201);
    // Stored directly, enabled, as if it had worked before.
    await db.knex('instance').insert({
      id: 'bootfail',
      type: 'test.bootfail',
      enabled: true,
      primary_user: bot.userId,
      config: '',
    });
    await t.close();
    t = await createTestApp(kind, {
      db,
      logger: logs.logger,
      runtime: LIMITS,
      startClients: true,
    });
    await waitFor(async () => (await api().get('/instance/echo')).body.started === true, {
      what: 'echo to start with its client',
    });
    await say('!echo after restart');
    await waitFor(() => botSaid('v2: after restart'), { what: 'the answer after the restart' });
    await waitFor(async () => (await api().get('/instance/bootfail')).body.enabled === false, {
      what: 'the failing instance to be disabled',
    });
    expect(
      logs.lines.some(
        (l) =>
          l.logger === 'maubot.instance.bootfail' && String(l.msg).includes('cannot start today'),
      ),
    ).toBe(true);
  }, 30_000);
});
