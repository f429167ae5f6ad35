-- sftpgo-ts schema 9 (MySQL/MariaDB): SFTPGo's shared_sessions table, the web state of a shared provider; see the
-- PostgreSQL script for the columns. DDL commits implicitly on MySQL: IF NOT EXISTS lets a failed run be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}shared_sessions` (
  `key` varchar(128) NOT NULL,
  `type` integer NOT NULL,
  `data` longtext NOT NULL,
  `timestamp` bigint NOT NULL,
  PRIMARY KEY (`key`, `type`),
  KEY `{{prefix}}shared_sessions_type_timestamp_idx` (`type`, `timestamp`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
