-- Reverts schema 4: the event manager's tables go.
DROP TABLE IF EXISTS "{{prefix}}rules_actions_mapping";
DROP TABLE IF EXISTS "{{prefix}}events_rules";
DROP TABLE IF EXISTS "{{prefix}}events_actions";
