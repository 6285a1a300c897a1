-- mailjet_models.sync_history: what the sync planned and did, per audience, list and UTC day of planning.
-- Read from the sync's audit trail (`mailjet_sync`: sync_runs, sync_plan, sync_rejections, sync_changelog).
-- Every figure belongs to the runs planned that day (`sync_runs.planned_at`), including what their apply
-- did later. The actions are the sync's: adds (`addnoforce`), unsubs (`unsub`), removes (`remove`),
-- updates (`update`); per action, the changes planned (`sync_plan`, one row each) and the changes sent,
-- by how Mailjet's job said they went (`sync_changelog.outcome`: done, refused; failed counts every
-- other outcome but skipped, `unknown` included, as `apply` counts them). Before any `plan` the tables do
-- not exist: the model is then empty.
--   audience         the audience (`sync_runs.audience`)
--   list_id          the list's Mailjet ID (`sync_runs.list_id`; null while the list did not exist yet)
--   list_name        the list's name (`sync_runs.list_name`)
--   planned_on       the UTC date the runs were planned (`sync_runs.planned_at`)
--   runs             runs planned (`sync_runs`, one row each), superseded ones included
--   adds_planned     `addnoforce` changes planned (`sync_plan`)
--   adds_done        `addnoforce` changes Mailjet confirmed (`sync_changelog`, outcome done)
--   adds_refused     `addnoforce` changes a job refused (outcome refused)
--   adds_failed      `addnoforce` changes of jobs that failed as a whole (outcome failed, or unknown)
--   unsubs_planned   `unsub` changes planned
--   unsubs_done      `unsub` changes done
--   unsubs_refused   `unsub` changes refused
--   unsubs_failed    `unsub` changes failed
--   removes_planned  `remove` changes planned
--   removes_done     `remove` changes done
--   removes_refused  `remove` changes refused
--   removes_failed   `remove` changes failed
--   updates_planned  `update` changes planned
--   updates_done     `update` changes done
--   updates_refused  `update` changes refused
--   updates_failed   `update` changes failed
--   skipped          changes of any action apply did not send again: the list showed them already after
--                    an interrupted apply (`sync_changelog`, outcome skipped)
--   rejected         audience rows that failed a data test (`sync_rejections`, stage data_test)
--   held_back        audience rows held back by a rule: unsubscribed, suppressed, no consent
--                    (`sync_rejections`, stage plan; its stages consent and apply are not counted: the
--                    CRM's unusable consent rows, and the contacts a job refused, in `*_refused`)
--   mismatches       confirmed changes the list, read again after apply, did not show (`sync_runs.mismatches`)
with
runs as (
    select run_id, audience, list_id, list_name, planned_at, mismatches from mailjet_sync.sync_runs
),

planned_changes as (
    select run_id, action from mailjet_sync.sync_plan
),

changelog as (
    select run_id, action, outcome from mailjet_sync.sync_changelog
),

rejections as (
    select run_id, stage from mailjet_sync.sync_rejections
),

days as (
    select
        run_id,
        audience,
        list_id,
        list_name,
        cast(timezone('UTC', planned_at) as date) as planned_on,
        coalesce(mismatches, 0) as mismatches
    from runs
),

changes as (
    select
        run_id,
        action,
        1 as planned,
        0 as done,
        0 as refused,
        0 as failed,
        0 as skipped,
        0 as rejected,
        0 as held_back
    from planned_changes
    union all
    select
        run_id,
        action,
        0 as planned,
        case when outcome = 'done' then 1 else 0 end as done,
        case when outcome = 'refused' then 1 else 0 end as refused,
        case when outcome in ('done', 'refused', 'skipped') then 0 else 1 end as failed,
        case when outcome = 'skipped' then 1 else 0 end as skipped,
        0 as rejected,
        0 as held_back
    from changelog
    union all
    select
        run_id,
        '' as action,
        0 as planned,
        0 as done,
        0 as refused,
        0 as failed,
        0 as skipped,
        case when stage = 'data_test' then 1 else 0 end as rejected,
        case when stage = 'plan' then 1 else 0 end as held_back
    from rejections
),

per_run as (
    select
        run_id,
        sum(case when action = 'addnoforce' then planned else 0 end) as adds_planned,
        sum(case when action = 'addnoforce' then done else 0 end) as adds_done,
        sum(case when action = 'addnoforce' then refused else 0 end) as adds_refused,
        sum(case when action = 'addnoforce' then failed else 0 end) as adds_failed,
        sum(case when action = 'unsub' then planned else 0 end) as unsubs_planned,
        sum(case when action = 'unsub' then done else 0 end) as unsubs_done,
        sum(case when action = 'unsub' then refused else 0 end) as unsubs_refused,
        sum(case when action = 'unsub' then failed else 0 end) as unsubs_failed,
        sum(case when action = 'remove' then planned else 0 end) as removes_planned,
        sum(case when action = 'remove' then done else 0 end) as removes_done,
        sum(case when action = 'remove' then refused else 0 end) as removes_refused,
        sum(case when action = 'remove' then failed else 0 end) as removes_failed,
        sum(case when action = 'update' then planned else 0 end) as updates_planned,
        sum(case when action = 'update' then done else 0 end) as updates_done,
        sum(case when action = 'update' then refused else 0 end) as updates_refused,
        sum(case when action = 'update' then failed else 0 end) as updates_failed,
        sum(skipped) as skipped,
        sum(rejected) as rejected,
        sum(held_back) as held_back
    from changes
    group by run_id
),

final as (
    select
        d.audience,
        d.list_id,
        d.list_name,
        d.planned_on,
        cast(count(*) as bigint) as runs,
        cast(coalesce(sum(r.adds_planned), 0) as bigint) as adds_planned,
        cast(coalesce(sum(r.adds_done), 0) as bigint) as adds_done,
        cast(coalesce(sum(r.adds_refused), 0) as bigint) as adds_refused,
        cast(coalesce(sum(r.adds_failed), 0) as bigint) as adds_failed,
        cast(coalesce(sum(r.unsubs_planned), 0) as bigint) as unsubs_planned,
        cast(coalesce(sum(r.unsubs_done), 0) as bigint) as unsubs_done,
        cast(coalesce(sum(r.unsubs_refused), 0) as bigint) as unsubs_refused,
        cast(coalesce(sum(r.unsubs_failed), 0) as bigint) as unsubs_failed,
        cast(coalesce(sum(r.removes_planned), 0) as bigint) as removes_planned,
        cast(coalesce(sum(r.removes_done), 0) as bigint) as removes_done,
        cast(coalesce(sum(r.removes_refused), 0) as bigint) as removes_refused,
        cast(coalesce(sum(r.removes_failed), 0) as bigint) as removes_failed,
        cast(coalesce(sum(r.updates_planned), 0) as bigint) as updates_planned,
        cast(coalesce(sum(r.updates_done), 0) as bigint) as updates_done,
        cast(coalesce(sum(r.updates_refused), 0) as bigint) as updates_refused,
        cast(coalesce(sum(r.updates_failed), 0) as bigint) as updates_failed,
        cast(coalesce(sum(r.skipped), 0) as bigint) as skipped,
        cast(coalesce(sum(r.rejected), 0) as bigint) as rejected,
        cast(coalesce(sum(r.held_back), 0) as bigint) as held_back,
        cast(sum(d.mismatches) as bigint) as mismatches
    from days d
    left join per_run r on r.run_id = d.run_id
    group by d.audience, d.list_id, d.list_name, d.planned_on
)

select * from final
