-- sync_rejections (stage data_test): the rows of one audience run that failed a data test, with the
-- address as given and the reason told for people. Parameters: the run, its audience, Mailjet's list
-- ID, the time of the run.
insert into mailjet_sync.sync_rejections (run_id, audience, list_id, email, stage, reason, detail, "at")
with

run_params as (
    select
        cast(? as bigint) as run_id,
        cast(? as varchar) as audience,
        cast(? as bigint) as list_id,
        cast(? as timestamp with time zone) as planned_at
),

copies as (
    select email, count(*) as copies
    from _aud
    where email is not null
    group by email
),

final as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        a.email_given as email,
        'data_test' as stage,
        x.reason,
        case x.reason
            when 'missing_email' then 'no email address'
            when 'invalid_email' then 'not a valid email address'
            when 'duplicate_email' then 'the address appears ' || cast(d.copies as varchar) || ' times in the audience'
        end as detail,
        r.planned_at as "at"
    from run_params as r
    cross join _rejected as x
    join _aud as a on a.row_no = x.row_no
    left join copies as d on d.email = a.email
)

select * from final
