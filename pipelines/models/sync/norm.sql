-- mailjet_sync.norm(x): the one normalization of emails, permissions and consent words, wherever they
-- are compared (the ledger, the diff, the shipped audiences): every Unicode blank (tab, line breaks, the
-- no-break spaces, the zero-width spaces and joiners, the byte-order mark) becomes a space, the ends are
-- trimmed, the rest lowercased; a value with nothing left is null. A blank inside an address stays (as a
-- space): such an address is invalid, and the data tests say so.
-- A value of printable ASCII alone has no such blank, and skips the translation: `translate` over the
-- blanks' 29 characters costs 4 µs a value on PostgreSQL and 1.8 µs on DuckDB, the check a fifth of that.
-- The check is anchored at both ends, so that engines whose regexp_like matches the whole value
-- (Snowflake) and those that find a match (the others) agree; a value ending in a line break is sent to
-- the translation whatever the check says, since a `$` of Java's patterns (Databricks) matches before a
-- final line break.
-- A call `mailjet_sync.norm(...)` in a statement of pipelines/models or in audiences.sql is replaced by
-- this expression, its argument in the place of each `x` (pipelines/models/norm.py): every engine runs
-- the same SQL, and no engine needs a macro or a function defined first. The check reads its argument
-- several times: only a column's call takes it; any other argument gets the `else` alone. Each `chr(n)`
-- is written as the character itself, in a literal: engines disagree on `chr` beyond 255.
select
    nullif(
        lower(
            trim(
                case
                    when
                        regexp_matches(cast(x as varchar), '^[ -~]*$')
                        and right(cast(x as varchar), 1) not in (chr(10), chr(13), chr(133), chr(8232), chr(8233))
                        then cast(x as varchar)
                    else translate(
                        cast(x as varchar),
                        chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(133) || chr(160) ||
                        chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) ||
                        chr(8197) || chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) ||
                        chr(8203) || chr(8204) || chr(8205) || chr(8232) || chr(8233) || chr(8239) ||
                        chr(8287) || chr(8288) || chr(12288) || chr(65279),
                        '                             '
                    )
                end
            )
        ),
        ''
    ) as norm
