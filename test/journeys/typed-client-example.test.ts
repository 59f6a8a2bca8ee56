import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { setUp } from '../../docs/examples/typed-client';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { TEST_PASSWORD, TEST_PROVISIONING_SECRET } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { maubotApi } from '../helpers/maubot-api';
import { ROOT } from '../helpers/process';
import { waitFor } from '../helpers/wait';
import { buildPlugin } from '../helpers/zip';

const EXAMPLE = 'docs/examples/typed-client.ts';
const HOOK_TYPE = 'uk.half-shot.matrix-hookshot.generic.hook';

describe('the typed client example in docs/client.md', () => {
  it('is the example file, word for word', async () => {
    const doc = await readFile(join(ROOT, 'docs/client.md'), 'utf8');
    const example = await readFile(join(ROOT, EXAMPLE), 'utf8');
    const block = new RegExp(`<!-- ${EXAMPLE} -->\\n\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc);
    expect(block?.[1]).toBe(example);
  });
});

describe.each(testDatabaseKinds())('the typed client example, run (%s)', (kind) => {
  let b: BridgeHarness;
  beforeAll(async () => {
    b = await startBridge(kind, {
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
    });
  });
  afterAll(() => b.close());

  it('when run, then the plugin is stored and the webhook posts to the room', async () => {
    const owner = b.user('owner');
    const roomId = await b.room(owner, { users: { [b.bot.userId]: 50 } });
    const archive = buildPlugin({ meta: { id: 'org.example.echo', version: '1.2.0' } });

    const result = await setUp({
      baseUrl: await b.t.listen(),
      username: 'admin',
      password: TEST_PASSWORD,
      provisioningSecret: TEST_PROVISIONING_SECRET,
      archive: new Uint8Array(archive),
      roomId,
      userId: owner.userId,
    });

    expect(result.plugin).toBe('org.example.echo v1.2.0');
    const plugin = await maubotApi(b.t).get('/plugin/org.example.echo');
    expect(plugin.status).toBe(200);
    expect(plugin.body).toMatchObject({ id: 'org.example.echo', version: '1.2.0' });
    const state = b.hs.roomState(roomId)!.find((e) => e.type === HOOK_TYPE);
    expect(state).toMatchObject({ state_key: 'deployments', content: { name: 'deployments' } });

    const hook = new URL(result.webhookUrl);
    expect(hook.origin).toBe('https://hooks.example.org');
    const posted = await request(b.t.app).post(hook.pathname).send({ text: 'deployed' });
    expect(posted.status).toBe(202);
    await waitFor(
      () =>
        (b.hs.roomEvents(roomId) ?? []).some(
          (e) => e.sender === b.bot.userId && e.content.body === 'deployed',
        ),
      { what: 'the webhook message' },
    );
  });

  it('when run again with a new version, then the plugin is replaced (allowOverride)', async () => {
    const owner = b.user('owner2');
    const settings = {
      baseUrl: await b.t.listen(),
      username: 'admin',
      password: TEST_PASSWORD,
      provisioningSecret: TEST_PROVISIONING_SECRET,
      archive: new Uint8Array(buildPlugin({ meta: { id: 'org.example.two', version: '1.0.0' } })),
      roomId: await b.room(owner, { users: { [b.bot.userId]: 50 } }),
      userId: owner.userId,
    };
    expect((await setUp(settings)).plugin).toBe('org.example.two v1.0.0');
    const newer = new Uint8Array(
      buildPlugin({ meta: { id: 'org.example.two', version: '2.0.0' } }),
    );
    expect((await setUp({ ...settings, archive: newer })).plugin).toBe('org.example.two v2.0.0');
    const plugins = await maubotApi(b.t).get('/plugins');
    expect(plugins.body.filter((p: { id: string }) => p.id === 'org.example.two')).toEqual([
      expect.objectContaining({ version: '2.0.0' }),
    ]);
  });

  it('when the password is wrong, then it stops at the login with the API error', async () => {
    await expect(
      setUp({
        baseUrl: await b.t.listen(),
        username: 'admin',
        password: 'wrong',
        provisioningSecret: TEST_PROVISIONING_SECRET,
        archive: new Uint8Array(buildPlugin()),
        roomId: '!nowhere:test.local',
        userId: '@nobody:test.local',
      }),
    ).rejects.toThrow('login failed: Invalid username or password');
  });
});
