-- mailjet_matched.list_recipients: what mailjet.list_recipients shows of imported files, recomputed after every load.
-- mailjet.list_recipients: one membership per (contact, list).
-- Every membership Mailjet lists, as it lists it (Mailjet's word on a membership always wins); then the
-- memberships imported files record (`--list`), where Mailjet has none: matched to Mailjet's contact by
-- email and to Mailjet's list by ID, else by name (a live list before a deleted one). Between imports,
-- the latest one's row stands, and the latest import that stated a status gives it: a file without a
-- status never re-subscribes anyone. Rows of a contact Mailjet has deleted, and memberships Mailjet listed
-- and has removed since, are left out, whenever the file was imported.
with api_ids as (
    select lower(email) as email_key, min(id) as id from mailjet_api.contacts t group by lower(email)
),
gone as (
    -- Emails Mailjet has listed (as MD5): a file row of such an email that matches no contact Mailjet
    -- lists now is about a contact Mailjet deleted, and stays out whenever the file was imported.
    select distinct e.email_md5 from mailjet_api.contacts_listed e
),
by_name as (
    select name_key, id, name from (
        select lower(name) as name_key, id, name, row_number() over (
            partition by lower(name) order by coalesce(is_deleted, false), id
        ) as n
        from mailjet_api.contact_lists t
        where name is not null
    ) l
    where n = 1
),
first_names as (
    -- A list known only from files is named as its first import spelled it.
    select list_id, list_name from (
        select list_id, list_name, row_number() over (partition by list_id order by imported_at, file) as n
        from mailjet_csv.imports t
        where list_ref is not null
    ) f
    where n = 1
),
file_lists as (
    -- The list of each `--list` reference: Mailjet's by ID, else Mailjet's by name, else the file's own.
    select r.list_ref, r.list_id as own_id,
           coalesce(i.id, b.id, r.list_id) as list_id,
           case when i.id is not null then i.name when b.id is not null then b.name else f.list_name end
               as list_name
    from (select distinct list_ref, list_id from mailjet_csv.imports t where list_ref is not null) r
    join first_names f on f.list_id = r.list_id
    left join mailjet_api.contact_lists i on i.id = r.list_id and r.list_id > 0
    left join by_name b on i.id is null and b.name_key = lower(r.list_ref)
),
file_members as (
    select r.id, coalesce(a.id, r.contact_id) as contact_id, l.list_id, l.list_name, r.is_unsubscribed,
           r.file, r.imported_at
    from mailjet_csv.list_recipients r
    join file_lists l on l.list_ref = r.list_ref and l.own_id = r.list_id
    left join api_ids a on a.email_key = lower(r.email)
    left join gone g on g.email_md5 = md5(lower(r.email))
    -- A membership Mailjet has listed is Mailjet's to state: once removed there, no file brings it back.
    left join mailjet_api.memberships_listed ml
        on ml.contact_id = coalesce(a.id, r.contact_id) and ml.list_id = l.list_id
    where (a.id is not null or g.email_md5 is null)
        and ml.contact_id is null
),
latest as (
    -- In one pass over the file rows (no join of them with themselves, which a planner that takes the
    -- freshly loaded file tables for small ones would run as a nested loop): the latest import's row,
    -- and the status of the latest import that stated one (rows without a status sort last).
    select f.*, row_number() over (
        partition by f.contact_id, f.list_id order by f.imported_at desc, f.file desc
    ) as n, first_value(f.is_unsubscribed) over (
        partition by f.contact_id, f.list_id
        order by f.is_unsubscribed is null, f.imported_at desc, f.file desc
    ) as stated_is_unsubscribed
    from file_members f
)
select
    l.id,
    l.contact_id,
    l.list_id,
    l.list_name,
    coalesce(l.stated_is_unsubscribed, false) as is_unsubscribed,
    cast(null as boolean) as is_active,
    cast(null as timestamp with time zone) as subscribed_at,
    cast(null as timestamp with time zone) as unsubscribed_at,
    'csv:' || l.file as _source,
    l.imported_at as _extracted_at
from latest l
where l.n = 1 and not exists (
    select 1 from mailjet_api.list_recipients m where m.contact_id = l.contact_id and m.list_id = l.list_id
)
