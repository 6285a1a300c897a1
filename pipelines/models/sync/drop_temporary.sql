-- Drops one temporary table of the plan (the engine names it in place of _temporary).
drop table if exists _temporary
