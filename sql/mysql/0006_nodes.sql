-- sftpgo-ts schema 6 (MySQL/MariaDB): cluster nodes (SFTPGo's nodes table semantics) and the sessions each node
-- holds. DDL commits implicitly on MySQL: IF NOT EXISTS lets a failed run be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}nodes` (
  `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `data` longtext NOT NULL,
  `created_at` bigint NOT NULL,
  `updated_at` bigint NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `{{prefix}}node_sessions` (
  `connection_id` varchar(255) NOT NULL PRIMARY KEY,
  `node` varchar(255) NOT NULL,
  `username` varchar(255) NOT NULL,
  `created_at` bigint NOT NULL,
  INDEX `{{prefix}}node_sessions_username_idx` (`username`),
  INDEX `{{prefix}}node_sessions_node_idx` (`node`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
