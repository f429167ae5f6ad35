-- sftpgo-ts schema 2 (MySQL/MariaDB): shares (SFTPGo's shares table), one row per share, owned by
-- a user and deleted with it. DDL commits implicitly on MySQL: IF NOT EXISTS lets a failed run be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}shares` (
  `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `share_id` varchar(60) NOT NULL UNIQUE,
  `name` varchar(255) NOT NULL,
  `description` varchar(1024) NULL,
  `scope` integer NOT NULL,
  `paths` longtext NOT NULL,
  `created_at` bigint NOT NULL,
  `updated_at` bigint NOT NULL,
  `last_use_at` bigint NOT NULL DEFAULT 0,
  `expires_at` bigint NOT NULL DEFAULT 0,
  `password` longtext NULL,
  `max_tokens` integer NOT NULL DEFAULT 0,
  `used_tokens` integer NOT NULL DEFAULT 0,
  `allow_from` longtext NULL,
  `user_id` integer NOT NULL,
  CONSTRAINT `{{prefix}}shares_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `{{prefix}}users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
