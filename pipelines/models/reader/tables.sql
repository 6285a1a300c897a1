-- `.tables` in `mailjet-elt sql` on the DuckDB file: every table and view of the database but DuckDB's own
-- catalogs, dlt's bookkeeping tables and the staging datasets merges go through. (On another warehouse
-- `.tables` lists the project's datasets through dlt's reading of that engine's catalog instead.)
select table_schema as dataset, table_name as name, table_type as kind
from information_schema.tables
where
    table_schema not in ('information_schema', 'pg_catalog')
    and table_schema not like '%\_staging' escape '\'
    and table_name not like '\_dlt%' escape '\'
order by 1, 2
