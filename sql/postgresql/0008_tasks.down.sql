-- Reverts schema 8: the schedule lock table goes.
DROP TABLE IF EXISTS "{{prefix}}tasks";
