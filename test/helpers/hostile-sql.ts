/**
 * Statements an instance might send to break out of its database: through the explorer API or
 * a plugin's `db.query`. `refused` ones must fail; the others may succeed because they stay
 * within the instance's own schema, role and session (what they leave in the session is gone
 * by the next call).
 */
export interface HostileStatement {
  sql: string;
  refused: boolean;
}

export interface HostileTargets {
  /** Switchboard's own login, and the server process of one of its sessions. */
  admin: string;
  adminPid: number;
  database: string;
  /** The attacking instance's schema, and another instance's schema and role. */
  ownSchema: string;
  victimSchema: string;
  victimRole: string;
  /** Files that must not exist afterwards. */
  files: { program: string; copy: string; largeObject: string };
  /** Makes names (roles, schemas, databases) this run may create by mistake unique. */
  tag: string;
}

/** What the attacker's schema needs before the corpus runs. */
export const HOSTILE_SETUP = [
  'create table notes (body text)',
  'insert into notes select g::text from generate_series(1, 10) g',
];

export function hostileCorpus(t: HostileTargets): HostileStatement[] {
  const refused = (sql: string): HostileStatement => ({ sql, refused: true });
  const allowed = (sql: string): HostileStatement => ({ sql, refused: false });
  const program = `copy (select 1) to program ''touch ${t.files.program}''`;
  return [
    // Several statements in one call: comments, quotes, dollar quotes and E-strings that hide
    // the separator from a text scan.
    refused(
      `select 1 -- '\n; reset role; do $x$ begin execute '${program}'; end $x$; commit; select 1 --'`,
    ),
    refused('select 1; select 2'),
    refused('select 1 /* ; */; reset role'),
    refused(`select $q$ ' $q$; set role ${t.admin}`),
    refused(`select E'\\''; copy (select 1) to program 'touch ${t.files.program}' --'`),
    refused(`select 1; commit; copy (select 1) to program 'touch ${t.files.program}'`),
    refused(`begin; set role ${t.admin}; commit`),
    // Roles and sessions.
    allowed('reset role'),
    allowed('set role none'),
    allowed('reset session authorization'),
    refused(`set role ${t.admin}`),
    refused(`set role ${t.victimRole}`),
    refused(`set session authorization ${t.admin}`),
    refused(`set session authorization ${t.victimRole}`),
    refused(`select set_config('role', '${t.admin}', false)`),
    refused(`select set_config('session_authorization', '${t.admin}', false)`),
    refused('alter role current_user superuser'),
    refused('alter role current_user createrole'),
    refused('alter role current_user createdb'),
    refused('alter role current_user bypassrls'),
    refused('alter role current_user inherit'),
    refused('alter role current_user connection limit -1'),
    refused(`alter role current_user rename to evil_${t.tag}`),
    refused(`alter role ${t.victimRole} password 'guessed'`),
    refused(`grant ${t.victimRole} to current_user`),
    refused('grant pg_execute_server_program to current_user'),
    refused('grant pg_read_server_files to current_user'),
    refused(`create role evil_${t.tag}`),
    refused(`create role evil_${t.tag}_su superuser`),
    refused(`reassign owned by current_user to ${t.admin}`),
    refused(`drop owned by ${t.victimRole}`),
    allowed('alter role current_user set statement_timeout = 0'),
    allowed('alter role current_user set search_path = public'),
    allowed(`alter role current_user password 'chosen-by-the-plugin'`),
    // Transaction games: each call is Switchboard's transaction, whatever it ends or begins.
    allowed('commit'),
    allowed('rollback'),
    allowed('begin'),
    allowed('commit and chain'),
    allowed('savepoint s'),
    refused('release savepoint nope'),
    refused(`prepare transaction 'evil_${t.tag}'`),
    refused('discard all'),
    refused('vacuum'),
    // Code, files and programs of the server.
    refused(`do $$ begin execute '${program}'; end $$`),
    refused(`copy (select 1) to program 'touch ${t.files.program}'`),
    refused(`copy (select 1) to '${t.files.copy}'`),
    refused(`copy notes from '/etc/hostname'`),
    refused(`copy notes from program 'id'`),
    refused('copy notes from stdin'),
    allowed('copy notes to stdout'),
    refused(`select pg_read_file('/etc/hostname')`),
    refused(`select pg_read_binary_file('/etc/hostname')`),
    refused(`select pg_ls_dir('.')`),
    refused(`select pg_stat_file('/etc/hostname')`),
    refused(`select lo_import('/etc/hostname')`),
    refused(`select lo_export(lo_create(0), '${t.files.largeObject}')`),
    refused(`select current_setting('data_directory')`),
    refused(`load 'plpgsql'`),
    refused('create extension dblink'),
    refused('create extension if not exists file_fdw'),
    refused(`select dblink_exec('dbname=${t.database}', 'drop table public.plugin')`),
    refused(`create function evil_c() returns int language c as 'libc', 'getpid'`),
    refused('create language plperlu'),
    allowed(
      'create or replace function own_f() returns int language sql security definer as $$ select 1 $$',
    ),
    allowed('select own_f()'),
    // Shadowing Switchboard's tables and functions: only in the instance's own schema.
    allowed('create table if not exists plugin (id text)'),
    allowed(
      `create or replace function now() returns timestamptz language sql as $$ select 'epoch'::timestamptz $$`,
    ),
    refused(`create function public.lower(varchar) returns text language sql as $$ select 'x' $$`),
    refused('create table public.evil (x int)'),
    refused(`create schema evil_${t.tag}`),
    refused(`alter schema ${t.ownSchema} rename to evil_${t.tag}`),
    refused(`alter schema ${t.ownSchema} owner to ${t.admin}`),
    refused(`alter table notes owner to ${t.victimRole}`),
    refused(
      'create event trigger evil on ddl_command_start execute function pg_catalog.pg_event_trigger_ddl_commands()',
    ),
    refused(`create publication evil_${t.tag} for all tables`),
    refused(`create database evil_${t.tag}`),
    refused(`alter database ${t.database} set search_path = ${t.ownSchema}`),
    refused('alter system set statement_timeout = 0'),
    refused('checkpoint'),
    refused('select pg_reload_conf()'),
    refused(`select pg_terminate_backend(${t.adminPid})`),
    refused(`select pg_cancel_backend(${t.adminPid})`),
    refused('set session_replication_role = replica'),
    refused(`set log_statement = 'none'`),
    // Other data: the server's secrets, Switchboard's tables, another instance's.
    refused('select * from pg_authid'),
    refused('select rolpassword from pg_authid'),
    refused('select * from pg_shadow'),
    refused('select * from pg_largeobject'),
    refused('select * from public.plugin'),
    refused('select * from public.instance_database'),
    refused('select * from public.client'),
    refused('update public.instance set enabled = false'),
    refused('truncate public.plugin'),
    refused('lock table public.plugin'),
    refused('grant select on public.plugin to current_user'),
    refused(`select * from "${t.victimSchema}".karma`),
    refused(`insert into "${t.victimSchema}".karma values ('evil', 1)`),
    refused(`drop table "${t.victimSchema}".karma`),
    refused(`drop schema "${t.victimSchema}" cascade`),
    refused(`grant usage on schema "${t.victimSchema}" to current_user`),
    // Time and size.
    refused('select pg_sleep(3)'),
    refused(`select set_config('statement_timeout', '0', false), pg_sleep(3)`),
    refused(
      'with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r',
    ),
    refused('select generate_series(1, 1000000)'),
    refused(`select repeat('x', 2000000)`),
    // Session state that must not outlive the call.
    allowed(`create temp table tmp_${t.tag} (x int)`),
    allowed('listen evil'),
    // Any role may notify any channel of its database: Switchboard must not trust what it
    // hears there.
    allowed(`notify evil, 'x'`),
    allowed('select pg_advisory_lock(42)'),
    allowed('set statement_timeout = 0'),
    allowed('set search_path = public'),
    // Its own objects outside the schema: large objects (dropped with the role); its own table
    // and schema opened on purpose (nobody else searches them).
    allowed('select lo_create(0)'),
    allowed('grant select on notes to public'),
    allowed(`grant create, usage on schema "${t.ownSchema}" to public`),
  ];
}
