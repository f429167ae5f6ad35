-- sftpgo-ts schema 9 (SQLite): SFTPGo's shared_sessions table. SQLite cannot be shared, the table exists so every
-- engine has the same schema versions; see the PostgreSQL script for the columns.
CREATE TABLE "{{prefix}}shared_sessions" (
  "key" varchar(128) NOT NULL,
  "type" integer NOT NULL,
  "data" text NOT NULL,
  "timestamp" bigint NOT NULL,
  PRIMARY KEY ("key", "type")
);
CREATE INDEX "{{prefix}}shared_sessions_type_timestamp_idx" ON "{{prefix}}shared_sessions" ("type", "timestamp");
