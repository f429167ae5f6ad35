-- sftpgo-ts schema 8 (MySQL/MariaDB): SFTPGo's tasks table, the schedule lock of a shared provider; see the
-- PostgreSQL script for the columns. DDL commits implicitly on MySQL: IF NOT EXISTS lets a failed run be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}tasks` (
  `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `updated_at` bigint NOT NULL,
  `version` bigint NOT NULL,
  `last_minute` bigint NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
