-- The writer lock of a warehouse without a lock of its own (BigQuery, Snowflake, Databricks, MotherDuck):
-- one row, leased for a while by the writer holding it, renewed while it works. Created by the first writer.
create table if not exists mailjet_sync.writer_lease (
    name varchar,
    holder varchar,
    token varchar,
    taken_at timestamptz,
    expires_at timestamptz
)
