-- sftpgo-ts schema 8 (SQLite): SFTPGo's tasks table (the schedule lock of a shared provider). SQLite cannot be
-- shared, the table exists so every engine has the same schema versions; see the PostgreSQL script for the columns.
CREATE TABLE "{{prefix}}tasks" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" varchar(255) NOT NULL UNIQUE,
  "updated_at" bigint NOT NULL,
  "version" bigint NOT NULL,
  "last_minute" bigint NOT NULL
);
