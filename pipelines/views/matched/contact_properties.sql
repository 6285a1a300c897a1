-- mailjet_matched.contact_properties: what mailjet.contact_properties shows of imported files, recomputed after every load.
-- mailjet.contact_properties: one value per (contact, property name).
-- Mailjet's values as it lists them; then the values imported files give, for a contact Mailjet has
-- (matched by email) or one known only from files: the latest import's value wins, and a value Mailjet
-- states is never replaced. Rows of a contact Mailjet has deleted are left out (as in mailjet.contacts).
with api_ids as (
    select lower(email) as email_key, min(id) as id from {api.contacts} t group by lower(email)
),
gone as (
    select lower(e.email) as email_key, max(e._extracted_at) as last_listed_at
    from {api.contact_emails} e
    left join api_ids a on a.email_key = lower(e.email)
    where a.email_key is null
    group by lower(e.email)
),
file_values as (
    select coalesce(a.id, p.contact_id) as contact_id, p.name, p.value, p.file, p.imported_at,
           row_number() over (
               partition by coalesce(a.id, p.contact_id), p.name order by p.imported_at desc, p.file desc
           ) as n
    from {csv.contact_properties} p
    left join api_ids a on a.email_key = lower(p.email)
    left join gone g on g.email_key = lower(p.email)
    where a.id is not null or g.email_key is null or g.last_listed_at < p.imported_at
)
select
    f.contact_id,
    f.name,
    f.value,
    'csv:' || f.file as _source,
    f.imported_at as _extracted_at
from file_values f
where f.n = 1 and not exists (
    select 1 from {api.contact_properties} p where p.contact_id = f.contact_id and p.name = f.name
)
