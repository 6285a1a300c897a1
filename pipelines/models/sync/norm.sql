-- mailjet_sync.norm(x): the one normalization of emails, permissions and consent words, wherever they
-- are compared (the ledger, the diff, the shipped audiences): every Unicode blank (tab, line breaks, the
-- no-break spaces, the zero-width spaces and joiners, the byte-order mark) becomes a space, the ends are
-- trimmed, the rest lowercased; a value with nothing left is null. A blank inside an address stays (as a
-- space): such an address is invalid, and the data tests say so.
-- A call `mailjet_sync.norm(...)` in a statement of pipelines/models or in audiences.sql is replaced by
-- this expression, its argument in the place of `x` (pipelines/models/norm.py): every engine runs the same
-- SQL, and no engine needs a macro or a function defined first. Each `chr(n)` is written as the character
-- itself, in a literal: engines disagree on `chr` beyond 255 (Databricks takes n modulo 256).
-- The blanks are one class of a global regexp replacement ('g': DuckDB's and PostgreSQL's flag; the default
-- of the others, pipelines/models/written.py): 4-8x cheaper per value than `translate` of the same
-- characters on DuckDB and on PostgreSQL. When the argument is a column, norm.py writes it as `case when
-- x = '' then null when regexp_matches(x, '^ | $|<class>') then <this expression> else lower(x) end`: the
-- same value, for about a third of the CPU on DuckDB, where the test is cheap and almost no value has a
-- blank or an end space. A correlated `not exists (... where s.email = mailjet_sync.norm(c.email))` still
-- runs as a hash join on DuckDB 2.0 with that `case` (tests/sync/test_models.py checks its plan).
select
    nullif(
        lower(
            trim(
                regexp_replace(
                    cast(x as varchar),
                    '[' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(133) || chr(160) ||
                    chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) ||
                    chr(8197) || chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) ||
                    chr(8203) || chr(8204) || chr(8205) || chr(8232) || chr(8233) || chr(8239) ||
                    chr(8287) || chr(8288) || chr(12288) || chr(65279) || ']',
                    ' ',
                    'g'
                )
            )
        ),
        ''
    ) as norm
