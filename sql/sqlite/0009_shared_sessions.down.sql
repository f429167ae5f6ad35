-- Reverts schema 9: the shared web sessions table goes.
DROP TABLE IF EXISTS "{{prefix}}shared_sessions";
