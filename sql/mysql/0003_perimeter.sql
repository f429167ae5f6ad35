-- sftpgo-ts schema 3 (MySQL/MariaDB): IP lists (SFTPGo 2.7 ip_lists) and the defender's provider driver
-- (defender_hosts / defender_events). DDL commits implicitly on MySQL: IF NOT EXISTS lets a failed run be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}ip_lists` (
  `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `type` integer NOT NULL,
  `ipornet` varchar(50) NOT NULL,
  `mode` integer NOT NULL,
  `description` varchar(512) NULL,
  `protocols` integer NOT NULL DEFAULT 0,
  `created_at` bigint NOT NULL,
  `updated_at` bigint NOT NULL,
  CONSTRAINT `{{prefix}}ip_lists_type_ipornet_unique` UNIQUE (`type`, `ipornet`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `{{prefix}}defender_hosts` (
  `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `ip` varchar(50) NOT NULL UNIQUE,
  `ban_time` bigint NOT NULL DEFAULT 0,
  `updated_at` bigint NOT NULL,
  INDEX `{{prefix}}defender_hosts_updated_at_idx` (`updated_at`),
  INDEX `{{prefix}}defender_hosts_ban_time_idx` (`ban_time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `{{prefix}}defender_events` (
  `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `date_time` bigint NOT NULL,
  `score` integer NOT NULL,
  `host_id` bigint NOT NULL,
  INDEX `{{prefix}}defender_events_date_time_idx` (`date_time`),
  INDEX `{{prefix}}defender_events_host_id_idx` (`host_id`),
  CONSTRAINT `{{prefix}}defender_events_host_fk` FOREIGN KEY (`host_id`) REFERENCES `{{prefix}}defender_hosts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
