-- Marks the rows of the audience that failed a data test.
update _aud set rejected = true
where row_no in (select row_no from _rejected)
