/**
 * What an earlier release's database may hold for its import to be safe. The import restores
 * it as the embedded server's superuser, so anything in it that runs code — a function, a
 * trigger, a rule, a policy, or a CHECK constraint, default, generated column or index
 * expression that calls a function — could run with superuser rights, during the import (as
 * rows are inserted and indexes built) or later (objects owned by the superuser). Those
 * releases ran plugin SQL as the database's only user, so such objects may be there without
 * anyone having meant them. The import refuses them, naming each, instead of restoring them.
 */
import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };

/** Schemas Switchboard made: its own tables in `public`, one `mbp_<id>` per instance. */
const USER_SCHEMA = `n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`;

/**
 * Functions an expression may call (all built in: user functions are refused anyway): none
 * of them reads or writes outside the row, changes a setting or runs SQL.
 */
const SAFE_CALLS = new Set(
  [
    // Syntax that looks like a call.
    'check',
    'cast',
    'extract',
    'any',
    'all',
    'some',
    'array',
    'in',
    'and',
    'or',
    'not',
    'exists',
    'coalesce',
    'nullif',
    'greatest',
    'least',
    'row',
    // Built-in functions without side effects.
    'nextval',
    'now',
    'statement_timestamp',
    'transaction_timestamp',
    'clock_timestamp',
    'gen_random_uuid',
    'char_length',
    'character_length',
    'length',
    'octet_length',
    'lower',
    'upper',
    'btrim',
    'ltrim',
    'rtrim',
    'trim',
    'array_length',
    'cardinality',
    'json_typeof',
    'jsonb_typeof',
    'timezone',
    'date_trunc',
    'abs',
  ].map((name) => name.toLowerCase()),
);

/** The functions an expression calls that are not known to be harmless. */
export function unsafeCalls(expression: string): string[] {
  // String literals may hold anything; they are data.
  const code = expression.replace(/'(?:[^']|'')*'/g, "''");
  const calls: string[] = [];
  for (const match of code.matchAll(/("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*\(/g)) {
    const raw = match[1]!;
    const name = raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
    // A type's length or precision (::varchar(20), AS numeric(10, 2)) is not a call.
    const before = code.slice(0, match.index);
    if (/(::|\bas)\s*(?:[a-z_]+\s+)*$/i.test(before)) continue;
    if (!SAFE_CALLS.has(name)) calls.push(name);
  }
  return calls;
}

async function rows<T>(pglite: PGlite, sql: string): Promise<T[]> {
  return (await pglite.query<T>(sql)).rows;
}

/**
 * Everything in the database that runs code or could run it with the superuser's rights, in
 * words; empty when the import is safe.
 */
export async function unsafeObjects(pglite: PGlite): Promise<string[]> {
  const found: string[] = [];
  for (const { name } of await rows<{ name: string }>(
    pglite,
    `select n.nspname as name from pg_catalog.pg_namespace n
      where ${USER_SCHEMA} and n.nspname <> 'public' and n.nspname !~ '^mbp_' order by 1`,
  )) {
    found.push(`schema ${name} (neither Switchboard's nor an instance's)`);
  }
  for (const { what } of await rows<{ what: string }>(
    pglite,
    `select case p.prokind when 'p' then 'procedure ' when 'a' then 'aggregate '
                else 'function ' end || n.nspname || '.' || p.proname
                || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' as what
       from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where ${USER_SCHEMA} order by 1`,
  )) {
    found.push(what);
  }
  for (const { what } of await rows<{ what: string }>(
    pglite,
    `select 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text as what
       from pg_catalog.pg_trigger t where not t.tgisinternal
     union all
     select 'rule ' || r.rulename || ' on ' || r.ev_class::regclass::text
       from pg_catalog.pg_rewrite r join pg_catalog.pg_class c on c.oid = r.ev_class
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where r.rulename <> '_RETURN' and ${USER_SCHEMA}
     union all
     select 'policy ' || p.polname || ' on ' || p.polrelid::regclass::text
       from pg_catalog.pg_policy p
     union all
     select 'event trigger ' || e.evtname from pg_catalog.pg_event_trigger e
     order by 1`,
  )) {
    found.push(what);
  }
  const expressions = await rows<{ what: string; expression: string }>(
    pglite,
    `select 'constraint ' || c.conname || ' on ' || coalesce(c.conrelid::regclass::text,
              c.contypid::regtype::text) as what,
            pg_catalog.pg_get_constraintdef(c.oid) as expression
       from pg_catalog.pg_constraint c join pg_catalog.pg_namespace n on n.oid = c.connamespace
      where c.contype = 'c' and ${USER_SCHEMA}
     union all
     select 'default of ' || a.attrelid::regclass::text || '.' || a.attname,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid)
       from pg_catalog.pg_attrdef d
       join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
       join pg_catalog.pg_class c on c.oid = d.adrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where ${USER_SCHEMA}
     union all
     select 'index ' || i.indexrelid::regclass::text,
            coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), '') || ' '
              || coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
       from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where ${USER_SCHEMA} and (i.indexprs is not null or i.indpred is not null)
     order by 1`,
  );
  for (const { what, expression } of expressions) {
    const calls = unsafeCalls(expression);
    if (calls.length > 0) found.push(`${what}, which calls ${[...new Set(calls)].join(', ')}`);
  }
  // A view or table an instance's role does not own would run with its owner's rights.
  for (const { what } of await rows<{ what: string }>(
    pglite,
    `select c.oid::regclass::text || ' (owned by ' || pg_catalog.pg_get_userbyid(c.relowner)
              || ', not by the owner of ' || n.nspname || ')' as what
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname ~ '^mbp_' and c.relowner <> n.nspowner and c.relkind in ('r', 'v', 'm', 'S', 'p', 'f')
      order by 1`,
  )) {
    found.push(what);
  }
  return found;
}
