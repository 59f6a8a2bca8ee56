import { createMaubotClient, createProvisioningClient, uploadPlugin } from 'switchboard/client';

export interface Settings {
  /** Where Switchboard listens, e.g. http://127.0.0.1:29316 */
  baseUrl: string;
  /** An admin of the `admins` configuration. */
  username: string;
  password: string;
  /** `provisioning.secret` of the configuration. */
  provisioningSecret: string;
  /** A plugin archive, e.g. await readFile('plugins/dist/echo.mbp'). */
  archive: Uint8Array<ArrayBuffer>;
  /** A room the provisioning bot is in, and a user there who may change its state. */
  roomId: string;
  userId: string;
}

/** The API's error message, or the HTTP status text when the answer has no body. */
function reason(answer: { error?: { error?: string }; response: Response }): string {
  return answer.error?.error ?? answer.response.statusText;
}

/** Logs in, uploads a plugin and creates an inbound webhook in a room. */
export async function setUp(settings: Settings): Promise<{ plugin: string; webhookUrl: string }> {
  const { baseUrl } = settings;

  // 1. Log in with an admin's name and password (the token does not expire).
  const login = await createMaubotClient({ baseUrl }).POST('/auth/login', {
    body: { username: settings.username, password: settings.password },
  });
  if (!login.data) throw new Error(`login failed: ${reason(login)}`);
  const maubot = createMaubotClient({ baseUrl, token: login.data.token });

  // 2. Upload the plugin, replacing an older version with the same id.
  const upload = await uploadPlugin(maubot, settings.archive, { allowOverride: true });
  if (!upload.data) throw new Error(`upload failed: ${reason(upload)}`);

  // 3. Create an inbound webhook connection in the room, as that user.
  const provisioning = createProvisioningClient({ baseUrl, secret: settings.provisioningSecret });
  const created = await provisioning.PUT('/{roomId}/connections/{connectionIdOrType}', {
    params: {
      path: {
        roomId: settings.roomId,
        connectionIdOrType: 'uk.half-shot.matrix-hookshot.generic.hook',
      },
      query: { userId: settings.userId },
    },
    body: { name: 'deployments' },
  });
  if (!created.data) throw new Error(`webhook failed: ${reason(created)}`);
  // A JSON POST such as {"text": "deployed"} to this URL becomes a message in the room.
  const { url } = created.data.secrets as { url: string };
  return { plugin: `${upload.data.id} v${upload.data.version}`, webhookUrl: url };
}
