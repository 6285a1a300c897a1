-- The warehouse's clock: every lease is written and judged by it, never by a machine's own clock.
select current_timestamp as now
