-- `mailjet-elt sql --allow-files`: every local path may be read once external access is off (the
-- statements that write are refused before they run; see pipelines/sql_access.py).
set allowed_directories = ['/']
