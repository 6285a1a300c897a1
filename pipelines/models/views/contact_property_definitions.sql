-- mailjet.contact_property_definitions: contact property names with their type and namespace, as Mailjet lists them (only Mailjet has these).
select
    id, name, datatype, namespace, 'api' as _source, _extracted_at
from mailjet_api.contact_property_definitions t
