import type { StoredConnection } from '../../src/bridge/connection-types';
import { TransformationRunner } from '../../src/webhooks/transformation';
import { MAX_PAYLOAD_DEPTH, WebhookDelivery } from '../../src/webhooks/webhook-delivery';
import { WebhookHooks } from '../../src/webhooks/webhook-hooks';
import { testConfig } from '../helpers/config';
import { captureLogs } from '../helpers/log-capture';
import { TEST_TRANSFORMATION_LIMITS } from '../helpers/transformation-limits';
import { waitFor } from '../helpers/wait';
import { RecordingMessenger } from '../fakes/recording-messenger';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const ROOM = '!room:switchboard.test';

/** The delivery service alone: no HTTP, outcomes only. */
describe('WebhookDelivery', () => {
  let runner: TransformationRunner;
  beforeAll(async () => {
    runner = await TransformationRunner.create({ ...TEST_TRANSFORMATION_LIMITS, queuePerHook: 1 });
  });
  afterAll(() => runner.close());

  function setup(config: Record<string, unknown> = {}, webhooks: Record<string, unknown> = {}) {
    const settings = testConfig({
      webhooks: {
        urlPrefix: 'https://hooks.example.org/webhook/',
        allowJsTransformationFunctions: true,
        maxPendingMessages: 3,
        ...webhooks,
      },
    }).webhooks!;
    const hooks = new WebhookHooks();
    const messenger = new RecordingMessenger();
    const connection: StoredConnection = {
      id: 'conn-1',
      roomId: ROOM,
      eventType: 'uk.half-shot.matrix-hookshot.generic.hook',
      stateKey: 'hook',
      type: 'Webhook',
      service: 'generic',
      config: { name: 'hook', ...config },
      secrets: null,
      createdBy: '@alice:switchboard.test',
    };
    hooks.set('hook-1', connection.id);
    const delivery = new WebhookDelivery({
      settings,
      logger: captureLogs().logger,
      hooks,
      connection: (id) => (id === connection.id ? connection : undefined),
      messenger,
      runner,
      now: () => NOW,
    });
    return { delivery, messenger };
  }

  it('when the payload nests deeper than the limit then tooDeep, before the hook is looked up', async () => {
    const { delivery, messenger } = setup();
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_PAYLOAD_DEPTH; i++) deep = [deep];
    await expect(delivery.deliver('no-such-hook', deep)).resolves.toEqual({
      kind: 'tooDeep',
      limit: MAX_PAYLOAD_DEPTH,
    });
    await expect(delivery.deliver('hook-1', (deep as unknown[])[0])).resolves.toEqual({
      kind: 'accepted',
    });
    await waitFor(() => messenger.sent.length === 1);
  });

  it('when the hook is unknown then notFound and nothing is posted', async () => {
    const { delivery, messenger } = setup();
    await expect(delivery.deliver('no-such-hook', { a: 1 })).resolves.toEqual({ kind: 'notFound' });
    expect(messenger.sent).toEqual([]);
  });

  it('when the hook expired then expired, even a millisecond after its time', async () => {
    const { delivery, messenger } = setup({ expirationDate: new Date(NOW - 1).toISOString() });
    await expect(delivery.deliver('hook-1', 'x')).resolves.toEqual({ kind: 'expired' });
    const live = setup({ expirationDate: new Date(NOW + 1000).toISOString() });
    await expect(live.delivery.deliver('hook-1', 'x')).resolves.toEqual({ kind: 'accepted' });
    expect(messenger.sent).toEqual([]);
  });

  it('when as many messages wait as allowed then busy; one fewer is accepted and posted', async () => {
    const { delivery, messenger } = setup();
    messenger.backlog = 3;
    await expect(delivery.deliver('hook-1', 'x')).resolves.toEqual({
      kind: 'busy',
      waiting: 'messages',
    });
    messenger.backlog = 2;
    await expect(delivery.deliver('hook-1', 'hello')).resolves.toEqual({ kind: 'accepted' });
    await waitFor(() => messenger.sent.length === 1);
    expect(messenger.bodies(ROOM)).toEqual(['Received webhook data: hello']);
  });

  it('when the hook waits for completion then delivered once posted, sendFailed when the room refuses', async () => {
    const { delivery, messenger } = setup({ waitForComplete: true });
    await expect(delivery.deliver('hook-1', 'one')).resolves.toEqual({ kind: 'delivered' });
    expect(messenger.bodies(ROOM)).toEqual(['Received webhook data: one']);
    messenger.fail = true;
    await expect(delivery.deliver('hook-1', 'two')).resolves.toEqual({ kind: 'sendFailed' });
  });

  it('when the transformation sets a response then delivered carries it; when it throws then transformFailed and the room hears why', async () => {
    const answering = setup({
      waitForComplete: true,
      transformationFunction:
        'result = { version: "v2", plain: "hi", webhookResponse: { body: "pong", statusCode: 201, contentType: "text/plain" } };',
    });
    await expect(answering.delivery.deliver('hook-1', {})).resolves.toEqual({
      kind: 'delivered',
      response: { body: 'pong', statusCode: 201, contentType: 'text/plain' },
    });
    const failing = setup({
      waitForComplete: true,
      transformationFunction: 'throw new Error("no");',
    });
    await expect(failing.delivery.deliver('hook-1', {})).resolves.toEqual({
      kind: 'transformFailed',
    });
    expect(failing.messenger.bodies(ROOM)).toEqual([
      'Webhook received but failed to process via transformation function',
    ]);
  });

  it("when the hook's transformation queue is full then busy transformations", async () => {
    const { delivery } = setup({ transformationFunction: 'while (true) {}' });
    const outcomes = await Promise.all([
      delivery.deliver('hook-1', 1),
      delivery.deliver('hook-1', 2),
      delivery.deliver('hook-1', 3),
    ]);
    expect(outcomes).toContainEqual({ kind: 'busy', waiting: 'transformations' });
    expect(outcomes[0]).toEqual({ kind: 'accepted' });
  });
});
