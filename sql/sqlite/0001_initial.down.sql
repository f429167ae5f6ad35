-- Reverts schema 1: every table goes (revertprovider to version 0).
DROP TABLE IF EXISTS "{{prefix}}api_keys";
DROP TABLE IF EXISTS "{{prefix}}users_folders_mapping";
DROP TABLE IF EXISTS "{{prefix}}admins";
DROP TABLE IF EXISTS "{{prefix}}folders";
DROP TABLE IF EXISTS "{{prefix}}users";
DROP TABLE IF EXISTS "{{prefix}}schema_version";
