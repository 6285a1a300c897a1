-- mailjet.csv_rejections: the rows of the latest import of each file that could not be loaded, and why.
select file, line, raw_row, reason, 'csv:' || file as _source, imported_at as _extracted_at
from (
    select t.*, max(t.imported_at) over (partition by t.file) as latest
    from mailjet_csv.csv_rejections t
) r
where imported_at = latest
