-- `mailjet-elt sql`: no file, network or extension access beyond the database itself (and the paths
-- allowed before it).
set enable_external_access = false
