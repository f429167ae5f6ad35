-- sftpgo-ts schema 4 (SQLite): the event manager's actions and rules (SFTPGo's events_actions,
-- events_rules and rules_actions_mapping tables). Options and conditions are JSON text.
CREATE TABLE IF NOT EXISTS "{{prefix}}events_actions" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(255) NOT NULL UNIQUE,
  "description" VARCHAR(512) NULL,
  "type" INTEGER NOT NULL,
  "options" TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS "{{prefix}}events_rules" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(255) NOT NULL UNIQUE,
  "status" INTEGER NOT NULL DEFAULT 1,
  "description" VARCHAR(512) NULL,
  "created_at" BIGINT NOT NULL,
  "updated_at" BIGINT NOT NULL,
  "trigger" INTEGER NOT NULL,
  "conditions" TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS "{{prefix}}rules_actions_mapping" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "rule_id" INTEGER NOT NULL REFERENCES "{{prefix}}events_rules" ("id") ON DELETE CASCADE,
  "action_id" INTEGER NOT NULL REFERENCES "{{prefix}}events_actions" ("id") ON DELETE NO ACTION,
  "order" INTEGER NOT NULL,
  "options" TEXT NOT NULL,
  CONSTRAINT "{{prefix}}unique_rule_action_mapping" UNIQUE ("rule_id", "action_id")
);

CREATE INDEX IF NOT EXISTS "{{prefix}}rules_actions_mapping_rule_id_idx" ON "{{prefix}}rules_actions_mapping" ("rule_id");
CREATE INDEX IF NOT EXISTS "{{prefix}}rules_actions_mapping_action_id_idx" ON "{{prefix}}rules_actions_mapping" ("action_id");
