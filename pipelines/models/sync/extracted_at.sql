-- When a raw table of Mailjet's (the engine names it in place of mailjet_api.contacts) was last
-- extracted.
select max(_extracted_at) as extracted_at
from mailjet_api.contacts
