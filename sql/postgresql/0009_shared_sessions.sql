-- sftpgo-ts schema 9 (PostgreSQL): SFTPGo's shared_sessions table, the web state a shared provider
-- (data_provider.is_shared 1) keeps for every node: emailed password reset codes and OpenID Connect pending logins
-- and tokens. type: 1 OIDC pending login, 2 OIDC token, 3 reset code; data: JSON; timestamp: expiry (epoch ms).
CREATE TABLE "{{prefix}}shared_sessions" (
  "key" varchar(128) COLLATE "C" NOT NULL,
  "type" integer NOT NULL,
  "data" text NOT NULL,
  "timestamp" bigint NOT NULL,
  PRIMARY KEY ("key", "type")
);
CREATE INDEX "{{prefix}}shared_sessions_type_timestamp_idx" ON "{{prefix}}shared_sessions" ("type", "timestamp");
