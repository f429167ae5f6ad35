-- Reverts schema 2: the shares table goes.
DROP TABLE IF EXISTS "{{prefix}}shares";
