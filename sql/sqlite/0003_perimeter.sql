-- sftpgo-ts schema 3 (SQLite): IP lists (SFTPGo 2.7 ip_lists) and the defender's provider driver
-- (defender_hosts / defender_events, shared by every node using this database).
CREATE TABLE IF NOT EXISTS "{{prefix}}ip_lists" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "type" INTEGER NOT NULL,
  "ipornet" VARCHAR(50) NOT NULL,
  "mode" INTEGER NOT NULL,
  "description" VARCHAR(512) NULL,
  "protocols" INTEGER NOT NULL DEFAULT 0,
  "created_at" BIGINT NOT NULL,
  "updated_at" BIGINT NOT NULL,
  CONSTRAINT "{{prefix}}ip_lists_type_ipornet_unique" UNIQUE ("type", "ipornet")
);

CREATE TABLE IF NOT EXISTS "{{prefix}}defender_hosts" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "ip" VARCHAR(50) NOT NULL UNIQUE,
  "ban_time" BIGINT NOT NULL DEFAULT 0,
  "updated_at" BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS "{{prefix}}defender_hosts_updated_at_idx" ON "{{prefix}}defender_hosts" ("updated_at");
CREATE INDEX IF NOT EXISTS "{{prefix}}defender_hosts_ban_time_idx" ON "{{prefix}}defender_hosts" ("ban_time");

CREATE TABLE IF NOT EXISTS "{{prefix}}defender_events" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "date_time" BIGINT NOT NULL,
  "score" INTEGER NOT NULL,
  "host_id" INTEGER NOT NULL REFERENCES "{{prefix}}defender_hosts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "{{prefix}}defender_events_date_time_idx" ON "{{prefix}}defender_events" ("date_time");
CREATE INDEX IF NOT EXISTS "{{prefix}}defender_events_host_id_idx" ON "{{prefix}}defender_events" ("host_id");
