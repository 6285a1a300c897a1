-- One row per run of a command that writes the warehouse (pipelines/warehouse/command_log.py): written
-- `running` once it holds the writer lock, closed as it ends. Created by the first writer.
create table if not exists mailjet_sync.command_runs (
    run_id bigint,
    command varchar,
    started_at timestamptz,
    finished_at timestamptz,
    status varchar,
    summary varchar,
    error varchar
)
