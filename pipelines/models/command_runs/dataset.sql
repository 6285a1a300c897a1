-- The sync's dataset, where each writing command's run is kept, created by the first one.
create schema if not exists mailjet_sync
