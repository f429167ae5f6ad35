-- sftpgo-ts schema 6 (SQLite): cluster nodes and their sessions. SQLite cannot be shared (is_shared 1 is refused at
-- start-up), the tables exist so every engine has the same schema versions.
CREATE TABLE "{{prefix}}nodes" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" varchar(255) NOT NULL UNIQUE,
  "data" text NOT NULL,
  "created_at" bigint NOT NULL,
  "updated_at" bigint NOT NULL
);
CREATE TABLE "{{prefix}}node_sessions" (
  "connection_id" varchar(255) NOT NULL PRIMARY KEY,
  "node" varchar(255) NOT NULL,
  "username" varchar(255) NOT NULL,
  "created_at" bigint NOT NULL
);
CREATE INDEX "{{prefix}}node_sessions_username_idx" ON "{{prefix}}node_sessions" ("username");
CREATE INDEX "{{prefix}}node_sessions_node_idx" ON "{{prefix}}node_sessions" ("node");
