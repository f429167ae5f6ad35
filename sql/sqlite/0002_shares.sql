-- Shares (SFTPGo's shares table): one row per share, owned by a user (deleted with it).
CREATE TABLE IF NOT EXISTS "{{prefix}}shares" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "share_id" VARCHAR(60) NOT NULL UNIQUE,
  "name" VARCHAR(255) NOT NULL,
  "description" VARCHAR(1024) NULL,
  "scope" INTEGER NOT NULL,
  "paths" TEXT NOT NULL,
  "created_at" BIGINT NOT NULL,
  "updated_at" BIGINT NOT NULL,
  "last_use_at" BIGINT NOT NULL DEFAULT 0,
  "expires_at" BIGINT NOT NULL DEFAULT 0,
  "password" TEXT NULL,
  "max_tokens" INTEGER NOT NULL DEFAULT 0,
  "used_tokens" INTEGER NOT NULL DEFAULT 0,
  "allow_from" TEXT NULL,
  "user_id" INTEGER NOT NULL REFERENCES "{{prefix}}users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "{{prefix}}shares_user_id_idx" ON "{{prefix}}shares" ("user_id");
