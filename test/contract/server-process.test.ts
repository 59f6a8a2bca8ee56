import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runServer } from '../helpers/process';
import { buildPlugin } from '../helpers/zip';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'switchboard-process-'));
}

describe('the server process', () => {
  it('when the config file is bad, then it exits 1 with a message naming the key', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'listeners:\n  - port: eighty\n    resources: [maubot]\n');
    const proc = runServer(['--config', path], {});
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(`switchboard: Invalid config file ${path}: `);
    expect(proc.stderr()).toContain('listeners.0.port: ');
  });

  it('when "migrate" runs on a fresh data directory, then it migrates, prints the login and exits 0', async () => {
    const dataDir = await tempDir();
    const proc = runServer(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toMatch(/with password: \S+/);
    expect(proc.stdout()).toContain(
      '"migrations":["20261122000000_plugins","20261122010000_clients","20261122020000_instances","20261201000000_connections","20261210000000_webhook_config_without_hook_id"]',
    );
    const again = runServer(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(await again.exited).toBe(0);
    expect(again.stdout()).toContain('database schema is up to date');
    expect(again.stdout()).not.toContain('with password');
  }, 30_000);

  it('when started on a fresh data directory, then the printed login works, docs are served and a restart keeps the state', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: String(port) };
    const base = `http://127.0.0.1:${port}`;

    const first = runServer([], env);
    const [, password] = await first.waitFor(/with password: (\S+)/);
    await first.waitFor(/"msg":"listening"/);
    expect(first.stdout()).toContain(
      `wrote a new configuration to ${join(dataDir, 'config.yaml')}`,
    );
    const login = async () =>
      fetch(`${base}/_matrix/maubot/v1/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ username: 'admin', password }),
      });
    const res = await login();
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    // A plugin stored in the on-disk embedded database must survive the restart too.
    const upload = await fetch(`${base}/_matrix/maubot/v1/plugins/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/zip' },
      body: buildPlugin({ meta: { version: '1.0.0-beta' } }),
    });
    expect(upload.status).toBe(201);
    const docs = await fetch(`${base}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
    const spec = await fetch(`${base}/openapi/provisioning.yaml`);
    expect(await spec.text()).toContain('openapi: 3.0.3');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('"msg":"stopped"');

    const second = runServer([], env);
    await second.waitFor(/"msg":"listening"/);
    expect(second.stdout()).not.toContain('with password');
    expect(second.stdout()).toContain('database schema is up to date');
    const ping = await fetch(`${base}/_matrix/maubot/v1/auth/ping`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(ping.status).toBe(200);
    expect((await login()).status).toBe(200);
    const plugins = await fetch(`${base}/_matrix/maubot/v1/plugins`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await plugins.json()).toEqual([
      { id: 'xyz.maubot.echo', version: '1.0.0b0', instances: [], loader: 'javascript' },
    ]);
    const reload = await fetch(`${base}/_matrix/maubot/v1/plugin/xyz.maubot.echo/reload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await reload.json()).toEqual({ success: true });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 60_000);
});
