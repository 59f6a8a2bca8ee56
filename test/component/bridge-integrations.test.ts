import { Bridge } from '../../src/bridge/bridge';
import type { BridgeIntegration, IntegrationRuntime } from '../../src/bridge/integration';
import type { Database } from '../../src/db/database';
import { SecretBox } from '../../src/secrets/secret-box';
import { testConfig } from '../helpers/config';
import { openTestDatabase } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';

/** The bridge core runs what the registry hands it, knowing none of the integrations. */
describe('Bridge and its integrations', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase('embedded');
  });
  afterAll(() => db.close());

  function recorder(calls: string[]) {
    const integration = (
      name: string,
      on: boolean,
    ): BridgeIntegration<
      { name: string },
      IntegrationRuntime & { settings: { name: string } }
    > => ({
      name,
      settings: () => (on ? { name } : null),
      create: (context, settings) => {
        calls.push(
          `${name}: create (${context.connections.count} connections, bot ${context.bot.status})`,
        );
        context.logger.info('made');
        return {
          settings,
          init: () => {
            calls.push(`${name}: init`);
            return Promise.resolve();
          },
          start: () => calls.push(`${name}: start`),
          stop: () => {
            calls.push(`${name}: stop`);
            return Promise.resolve();
          },
        };
      },
    });
    return integration;
  }

  it('when started and stopped then each enabled integration is made, set up, started and stopped in registry order', async () => {
    const calls: string[] = [];
    const integration = recorder(calls);
    const first = integration('first', true);
    const off = integration('off', false);
    const second = integration('second', true);
    const logs = captureLogs();
    const bridge = new Bridge({
      config: testConfig(),
      db: db.knex,
      secrets: new SecretBox(testConfig().encryptionKey),
      logger: logs.logger,
      integrations: [first, off, second],
    });
    expect(bridge.runtime(first)?.settings).toEqual({ name: 'first' });
    expect(bridge.runtime(off)).toBeNull();
    await bridge.start();
    await bridge.stop();
    expect(calls).toEqual([
      'first: create (0 connections, bot unconfigured)',
      'second: create (0 connections, bot unconfigured)',
      'first: init',
      'second: init',
      'first: start',
      'second: start',
      'first: stop',
      'second: stop',
    ]);
    // Each logs under its own name.
    const made = logs.lines.filter((l) => l.msg === 'made').map((l) => l.logger);
    expect(made).toEqual(['bridge.first', 'bridge.second']);
  });
});
