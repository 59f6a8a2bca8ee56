/**
 * What a project that installed Switchboard gets from `switchboard/client`: `npm run
 * check:client` compiles this against the built declarations (no path mapping) and runs it
 * against the built code, loaded with require and with import.
 */
import assert from 'node:assert/strict';
import {
  createMaubotClient,
  createProvisioningClient,
  uploadPlugin,
  type maubot,
} from 'switchboard/client';

async function main(): Promise<void> {
  const requests: Request[] = [];
  const fetch = (input: Request) => {
    requests.push(input);
    const plugin: maubot.components['schemas']['Plugin'] = {
      id: 'org.example.echo',
      version: '1.0.0',
      instances: [],
      loader: 'javascript',
    };
    return Promise.resolve(Response.json(plugin, { status: 201 }));
  };
  const baseUrl = 'http://switchboard.test/prefix/';
  const client = createMaubotClient({ baseUrl, token: 'tok', fetch });
  const upload = await uploadPlugin(client, new Uint8Array([80, 75, 3, 4]), {
    allowOverride: true,
  });
  assert.equal(upload.data?.id, 'org.example.echo');
  const sent = requests[0]!;
  assert.equal(
    sent.url,
    'http://switchboard.test/prefix/_matrix/maubot/v1/plugins/upload?allow_override=true',
  );
  assert.equal(sent.headers.get('authorization'), 'Bearer tok');
  assert.equal(sent.headers.get('content-type'), 'application/zip');
  assert.deepEqual([...new Uint8Array(await sent.arrayBuffer())], [80, 75, 3, 4]);

  await createProvisioningClient({ baseUrl, secret: 'sec', fetch }).GET('/health');
  assert.equal(requests[1]!.url, 'http://switchboard.test/prefix/v1/health');
  assert.equal(requests[1]!.headers.get('authorization'), 'Bearer sec');

  // The same entry point from an ES module.
  const esm = (await import('switchboard/client')) as Record<string, unknown>;
  assert.equal(esm.createMaubotClient, createMaubotClient);
  console.log('switchboard/client loads with require and import, and its types check');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
