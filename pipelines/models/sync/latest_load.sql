-- When the latest successful load of Mailjet's data ended.
select max(inserted_at) as loaded_at
from mailjet_api._dlt_loads
where status = 0
