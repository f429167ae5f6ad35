-- sftpgo-ts schema 5 (SQLite): groups and roles (SFTPGo 2.7). References are mapping rows, so reverting
-- is dropping tables. The service refuses deleting a group still used by users or a role held by admins.
CREATE TABLE IF NOT EXISTS "{{prefix}}roles" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(255) NOT NULL UNIQUE,
  "description" VARCHAR(512) NULL,
  "created_at" BIGINT NOT NULL DEFAULT 0,
  "updated_at" BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS "{{prefix}}groups" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(255) NOT NULL UNIQUE,
  "description" VARCHAR(512) NULL,
  "created_at" BIGINT NOT NULL DEFAULT 0,
  "updated_at" BIGINT NOT NULL DEFAULT 0,
  "user_settings" TEXT NULL
);

CREATE TABLE IF NOT EXISTS "{{prefix}}groups_folders_mapping" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "virtual_path" TEXT NOT NULL,
  "quota_size" BIGINT NOT NULL DEFAULT 0,
  "quota_files" INTEGER NOT NULL DEFAULT 0,
  "folder_id" INTEGER NOT NULL REFERENCES "{{prefix}}folders" ("id") ON DELETE CASCADE,
  "group_id" INTEGER NOT NULL REFERENCES "{{prefix}}groups" ("id") ON DELETE CASCADE,
  CONSTRAINT "{{prefix}}unique_group_folder_mapping" UNIQUE ("group_id", "folder_id")
);
CREATE INDEX IF NOT EXISTS "{{prefix}}groups_folders_mapping_group_id_idx" ON "{{prefix}}groups_folders_mapping" ("group_id");

CREATE TABLE IF NOT EXISTS "{{prefix}}users_groups_mapping" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "user_id" INTEGER NOT NULL REFERENCES "{{prefix}}users" ("id") ON DELETE CASCADE,
  "group_id" INTEGER NOT NULL REFERENCES "{{prefix}}groups" ("id") ON DELETE NO ACTION,
  "group_type" INTEGER NOT NULL,
  CONSTRAINT "{{prefix}}unique_user_group_mapping" UNIQUE ("user_id", "group_id")
);
CREATE INDEX IF NOT EXISTS "{{prefix}}users_groups_mapping_group_id_idx" ON "{{prefix}}users_groups_mapping" ("group_id");

CREATE TABLE IF NOT EXISTS "{{prefix}}users_roles_mapping" (
  "user_id" INTEGER NOT NULL PRIMARY KEY REFERENCES "{{prefix}}users" ("id") ON DELETE CASCADE,
  "role_id" INTEGER NOT NULL REFERENCES "{{prefix}}roles" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "{{prefix}}users_roles_mapping_role_id_idx" ON "{{prefix}}users_roles_mapping" ("role_id");

CREATE TABLE IF NOT EXISTS "{{prefix}}admins_roles_mapping" (
  "admin_id" INTEGER NOT NULL PRIMARY KEY REFERENCES "{{prefix}}admins" ("id") ON DELETE CASCADE,
  "role_id" INTEGER NOT NULL REFERENCES "{{prefix}}roles" ("id") ON DELETE NO ACTION
);

-- admins' groups: added to the users such an admin creates in the web admin (options.add_to_users_as)
CREATE TABLE IF NOT EXISTS "{{prefix}}admins_groups_mapping" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "admin_id" INTEGER NOT NULL REFERENCES "{{prefix}}admins" ("id") ON DELETE CASCADE,
  "group_id" INTEGER NOT NULL REFERENCES "{{prefix}}groups" ("id") ON DELETE CASCADE,
  "options" TEXT NULL,
  CONSTRAINT "{{prefix}}unique_admin_group_mapping" UNIQUE ("admin_id", "group_id")
);
