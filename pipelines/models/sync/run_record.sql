-- sync_runs: the row of one audience run, as planned (parameters, in the order of the columns).
insert into mailjet_sync.sync_runs (
    run_id, audience, list_ref, list_id, list_name, permission, on_exit, audiences_file, planned_at,
    data_as_of, status, audience_rows, rejected, held_back, list_members, adds, unsubs, removes, updates,
    guard, guard_detail, properties, property_types
)
values (
    cast(? as bigint), cast(? as varchar), cast(? as varchar), cast(? as bigint), cast(? as varchar),
    cast(? as varchar), cast(? as varchar), cast(? as varchar), cast(? as timestamp with time zone),
    cast(? as timestamp with time zone), 'planned', cast(? as bigint), cast(? as bigint), cast(? as bigint),
    cast(? as bigint), cast(? as bigint), cast(? as bigint), cast(? as bigint), cast(? as bigint),
    cast(? as varchar), cast(? as varchar), cast(? as varchar), cast(? as varchar)
)
