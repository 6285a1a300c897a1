-- The lease's row, free, when there is none: two writers that add it at once leave two rows of the same
-- name, which every statement below treats as one (each writes all of them, in one statement).
insert into mailjet_sync.writer_lease (name, holder, token, taken_at, expires_at)
select ?, null, null, null, null
where not exists (select 1 from mailjet_sync.writer_lease where name = ?)
