import { unsafeCalls } from '../../src/db/pglite-import-check';

describe('calls in an expression of an earlier release database', () => {
  it.each([
    ['CHECK ((score >= 0))', []],
    ["CHECK ((loader = ANY (ARRAY['javascript'::text, 'python'::text])))", []],
    ["nextval('mbp_karmabot.karma_id_seq'::regclass)", []],
    ["'{}'::jsonb", []],
    ['now()', []],
    ["('x'::character varying(20))::text", []],
    ['CAST(x AS numeric(10, 2))', []],
    ['CHECK ((char_length(name) < 64))', []],
    // Text in a literal is data, not a call.
    ["'pg_read_file(''/etc/passwd'')'::text", []],
    ['CHECK (mbp_x.escalate())', ['escalate']],
    ['CHECK (mbp_x."Escalate"())', ['Escalate']],
    ["CHECK ((length(pg_catalog.pg_read_file('postmaster.pid')) > 0))", ['pg_read_file']],
    ["lo_export(1, '/tmp/x')", ['lo_export']],
    ["set_config('role', 'none', true)", ['set_config']],
    ["query_to_xml('select 1', true, true, '')", ['query_to_xml']],
  ])('%s calls %j', (expression, calls) => {
    expect(unsafeCalls(expression)).toEqual(calls);
  });
});
