-- _current: the Mailjet property values of the list's members, one column per declared property
-- (p_0..p_n, in the order of `-- properties:`; the engine repeats the p_0 column for each property).
create temporary table _current as
select
    cp.contact_id,
    max(case when lower(cp.name) = 'p_0' then cast(cp.value as varchar) end) as p_0
from mailjet.contact_properties as cp
where cp._source = 'api' and cp.contact_id in (select contact_id from _members)
group by cp.contact_id
