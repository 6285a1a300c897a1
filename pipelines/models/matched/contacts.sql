-- mailjet_matched.contacts: what mailjet.contacts shows of imported files, recomputed after every load.
-- mailjet.contacts: one contact per email (compared case-insensitively).
-- Every contact Mailjet lists, as it lists it; then each contact known only from imported files: the
-- latest import's row, with the latest name any file gave. File rows of a contact Mailjet has deleted
-- (Mailjet listed the email once and lists it no more) are left out, whenever the file was imported.
with api_emails as (
    select lower(email) as email_key from mailjet_api.contacts t group by lower(email)
),
gone as (
    -- Emails Mailjet has listed (as MD5): a file row of such an email that matches no contact Mailjet
    -- lists now is about a contact Mailjet deleted, and stays out whenever the file was imported.
    select distinct e.email_md5 from mailjet_api.contacts_listed e
),
file_rows as (
    select c.*, lower(c.email) as email_key
    from mailjet_csv.contacts c
    left join api_emails a on a.email_key = lower(c.email)
    left join gone g on g.email_md5 = md5(lower(c.email))
    where a.email_key is null and g.email_md5 is null
),
latest as (
    -- In one pass over the file rows (no join of them with themselves, which a planner that takes the
    -- freshly loaded file tables for small ones would run as a nested loop): the latest import's row,
    -- and the latest name any file gave (rows without a name sort last).
    select f.*, row_number() over (
        partition by f.email_key order by f.imported_at desc, f.file desc
    ) as n, first_value(f.name) over (
        partition by f.email_key order by f.name is null, f.imported_at desc, f.file desc
    ) as latest_name
    from file_rows f
)
select
    l.contact_id as id,
    l.email,
    l.latest_name as name,
    cast(null as boolean) as is_excluded_from_campaigns,
    cast(null as timestamp with time zone) as exclusion_from_campaigns_updated_at,
    cast(null as boolean) as is_opt_in_pending,
    cast(null as boolean) as is_spam_complaining,
    cast(null as bigint) as delivered_count,
    cast(null as timestamp with time zone) as created_at,
    cast(null as timestamp with time zone) as last_activity_at,
    cast(null as timestamp with time zone) as last_update_at,
    cast(null as timestamp with time zone) as unsubscribed_at,
    cast(null as varchar) as unsubscribed_by,
    'csv:' || l.file as _source,
    l.imported_at as _extracted_at
from latest l
where l.n = 1
