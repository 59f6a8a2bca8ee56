import type { Knex } from 'knex';
import * as plugins from './20261122000000_plugins';
import * as clients from './20261122010000_clients';
import * as instances from './20261122020000_instances';
import * as connections from './20261201000000_connections';
import * as webhookConfigWithoutHookId from './20261210000000_webhook_config_without_hook_id';
import * as instanceDatabase from './20261215000000_instance_database';
import * as changeNotifications from './20261220000000_change_notifications';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Listed explicitly so migrations work the same from TypeScript sources and compiled output.
const MIGRATIONS: [string, Migration][] = [
  ['20261122000000_plugins', plugins],
  ['20261122010000_clients', clients],
  ['20261122020000_instances', instances],
  ['20261201000000_connections', connections],
  ['20261210000000_webhook_config_without_hook_id', webhookConfigWithoutHookId],
  ['20261215000000_instance_database', instanceDatabase],
  ['20261220000000_change_notifications', changeNotifications],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
  getMigrationName: ([name]) => name,
  getMigration: ([, migration]) => Promise.resolve(migration),
};
