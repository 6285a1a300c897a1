-- mailjet_matched.contact_properties: what mailjet.contact_properties shows of imported files, recomputed after every load.
-- mailjet.contact_properties: one value per (contact, property name).
-- Mailjet's values as it lists them; then the values imported files give, for a contact Mailjet has
-- (matched by email) or one known only from files: the latest import's value wins, and a value Mailjet
-- states is never replaced. Rows of a contact Mailjet has deleted are left out (as in mailjet.contacts).
with api_ids as (
    select lower(email) as email_key, min(id) as id from mailjet_api.contacts t group by lower(email)
),
gone as (
    -- Emails Mailjet has listed (as MD5): a file row of such an email that matches no contact Mailjet
    -- lists now is about a contact Mailjet deleted, and stays out whenever the file was imported.
    select distinct e.email_md5 from mailjet_api.contacts_listed e
),
file_values as (
    select coalesce(a.id, p.contact_id) as contact_id, p.name, p.value, p.file, p.imported_at,
           row_number() over (
               partition by coalesce(a.id, p.contact_id), p.name order by p.imported_at desc, p.file desc
           ) as n
    from mailjet_csv.contact_properties p
    left join api_ids a on a.email_key = lower(p.email)
    left join gone g on g.email_md5 = md5(lower(p.email))
    where a.id is not null or g.email_md5 is null
)
select
    f.contact_id,
    f.name,
    f.value,
    'csv:' || f.file as _source,
    f.imported_at as _extracted_at
from file_values f
where f.n = 1 and not exists (
    select 1 from mailjet_api.contact_properties p where p.contact_id = f.contact_id and p.name = f.name
)
