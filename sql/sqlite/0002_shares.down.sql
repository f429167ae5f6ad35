-- Reverts schema 2: the shares table goes.
DROP INDEX IF EXISTS "{{prefix}}shares_user_id_idx";
DROP TABLE IF EXISTS "{{prefix}}shares";
