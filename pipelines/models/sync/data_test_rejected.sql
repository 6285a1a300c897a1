-- _rejected: the rows of the audience (by row_no) that failed a data test, and why.
create temporary table _rejected (row_no bigint, reason varchar)
