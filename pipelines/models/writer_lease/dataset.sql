-- The sync's dataset, where the writer lease lives, created before the first load when it is not there.
create schema if not exists mailjet_sync
