-- sftpgo-ts schema 1 (SQLite). `{{prefix}}` is replaced by data_provider.sql_tables_prefix.
-- Complex fields (permissions, filters, filesystem, public_keys) are JSON text.
CREATE TABLE IF NOT EXISTS "{{prefix}}schema_version" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "version" INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS "{{prefix}}users" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "username" VARCHAR(255) NOT NULL UNIQUE,
  "status" INTEGER NOT NULL DEFAULT 1,
  "expiration_date" BIGINT NOT NULL DEFAULT 0,
  "description" VARCHAR(512) NULL,
  "password" TEXT NULL,
  "public_keys" TEXT NULL,
  "home_dir" TEXT NOT NULL,
  "uid" BIGINT NOT NULL DEFAULT 0,
  "gid" BIGINT NOT NULL DEFAULT 0,
  "max_sessions" INTEGER NOT NULL DEFAULT 0,
  "quota_size" BIGINT NOT NULL DEFAULT 0,
  "quota_files" INTEGER NOT NULL DEFAULT 0,
  "permissions" TEXT NOT NULL,
  "used_quota_size" BIGINT NOT NULL DEFAULT 0,
  "used_quota_files" INTEGER NOT NULL DEFAULT 0,
  "last_quota_update" BIGINT NOT NULL DEFAULT 0,
  "upload_bandwidth" INTEGER NOT NULL DEFAULT 0,
  "download_bandwidth" INTEGER NOT NULL DEFAULT 0,
  "upload_data_transfer" INTEGER NOT NULL DEFAULT 0,
  "download_data_transfer" INTEGER NOT NULL DEFAULT 0,
  "total_data_transfer" INTEGER NOT NULL DEFAULT 0,
  "used_upload_data_transfer" BIGINT NOT NULL DEFAULT 0,
  "used_download_data_transfer" BIGINT NOT NULL DEFAULT 0,
  "created_at" BIGINT NOT NULL DEFAULT 0,
  "updated_at" BIGINT NOT NULL DEFAULT 0,
  "last_login" BIGINT NOT NULL DEFAULT 0,
  "first_download" BIGINT NOT NULL DEFAULT 0,
  "first_upload" BIGINT NOT NULL DEFAULT 0,
  "last_password_change" BIGINT NOT NULL DEFAULT 0,
  "filters" TEXT NULL,
  "filesystem" TEXT NULL,
  "additional_info" TEXT NULL,
  "email" VARCHAR(255) NULL
);

CREATE TABLE IF NOT EXISTS "{{prefix}}folders" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(255) NOT NULL UNIQUE,
  "description" VARCHAR(512) NULL,
  "path" TEXT NULL,
  "used_quota_size" BIGINT NOT NULL DEFAULT 0,
  "used_quota_files" INTEGER NOT NULL DEFAULT 0,
  "last_quota_update" BIGINT NOT NULL DEFAULT 0,
  "filesystem" TEXT NULL
);

CREATE TABLE IF NOT EXISTS "{{prefix}}users_folders_mapping" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "virtual_path" TEXT NOT NULL,
  "quota_size" BIGINT NOT NULL DEFAULT 0,
  "quota_files" INTEGER NOT NULL DEFAULT 0,
  "folder_id" INTEGER NOT NULL REFERENCES "{{prefix}}folders" ("id") ON DELETE CASCADE,
  "user_id" INTEGER NOT NULL REFERENCES "{{prefix}}users" ("id") ON DELETE CASCADE,
  CONSTRAINT "{{prefix}}unique_user_folder_mapping" UNIQUE ("user_id", "folder_id")
);
CREATE INDEX IF NOT EXISTS "{{prefix}}users_folders_mapping_folder_id_idx" ON "{{prefix}}users_folders_mapping" ("folder_id");
CREATE INDEX IF NOT EXISTS "{{prefix}}users_folders_mapping_user_id_idx" ON "{{prefix}}users_folders_mapping" ("user_id");

CREATE TABLE IF NOT EXISTS "{{prefix}}admins" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "username" VARCHAR(255) NOT NULL UNIQUE,
  "description" VARCHAR(512) NULL,
  "password" VARCHAR(255) NOT NULL,
  "email" VARCHAR(255) NULL,
  "status" INTEGER NOT NULL DEFAULT 1,
  "permissions" TEXT NOT NULL,
  "filters" TEXT NULL,
  "additional_info" TEXT NULL,
  "last_login" BIGINT NOT NULL DEFAULT 0,
  "created_at" BIGINT NOT NULL DEFAULT 0,
  "updated_at" BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS "{{prefix}}api_keys" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(255) NOT NULL,
  "key_id" VARCHAR(50) NOT NULL UNIQUE,
  "api_key" VARCHAR(255) NOT NULL UNIQUE,
  "scope" INTEGER NOT NULL,
  "created_at" BIGINT NOT NULL DEFAULT 0,
  "updated_at" BIGINT NOT NULL DEFAULT 0,
  "last_use_at" BIGINT NOT NULL DEFAULT 0,
  "expires_at" BIGINT NOT NULL DEFAULT 0,
  "description" TEXT NULL,
  "admin_id" INTEGER NULL REFERENCES "{{prefix}}admins" ("id") ON DELETE CASCADE,
  "user_id" INTEGER NULL REFERENCES "{{prefix}}users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "{{prefix}}api_keys_admin_id_idx" ON "{{prefix}}api_keys" ("admin_id");
CREATE INDEX IF NOT EXISTS "{{prefix}}api_keys_user_id_idx" ON "{{prefix}}api_keys" ("user_id");
