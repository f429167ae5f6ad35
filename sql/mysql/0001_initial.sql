-- sftpgo-ts schema 1 (MySQL 8 / MariaDB 10.6+). `{{prefix}}` is replaced by data_provider.sql_tables_prefix.
-- Complex fields (permissions, filters, filesystem, public_keys) are JSON text, as in SFTPGo.
-- Tables use utf8mb4_bin: names are unique and ordered byte by byte, case-sensitive, as on SQLite and PostgreSQL.
-- CREATE TABLE IF NOT EXISTS: DDL is not transactional here, so a half-applied script can be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}schema_version` (
  `id` integer NOT NULL PRIMARY KEY,
  `version` integer NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}users` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `username` varchar(255) NOT NULL UNIQUE,
  `status` integer NOT NULL DEFAULT 1,
  `expiration_date` bigint NOT NULL DEFAULT 0,
  `description` varchar(512) NULL,
  `password` longtext NULL,
  `public_keys` longtext NULL,
  `home_dir` longtext NOT NULL,
  `uid` bigint NOT NULL DEFAULT 0,
  `gid` bigint NOT NULL DEFAULT 0,
  `max_sessions` integer NOT NULL DEFAULT 0,
  `quota_size` bigint NOT NULL DEFAULT 0,
  `quota_files` integer NOT NULL DEFAULT 0,
  `permissions` longtext NOT NULL,
  `used_quota_size` bigint NOT NULL DEFAULT 0,
  `used_quota_files` integer NOT NULL DEFAULT 0,
  `last_quota_update` bigint NOT NULL DEFAULT 0,
  `upload_bandwidth` integer NOT NULL DEFAULT 0,
  `download_bandwidth` integer NOT NULL DEFAULT 0,
  `upload_data_transfer` integer NOT NULL DEFAULT 0,
  `download_data_transfer` integer NOT NULL DEFAULT 0,
  `total_data_transfer` integer NOT NULL DEFAULT 0,
  `used_upload_data_transfer` bigint NOT NULL DEFAULT 0,
  `used_download_data_transfer` bigint NOT NULL DEFAULT 0,
  `created_at` bigint NOT NULL DEFAULT 0,
  `updated_at` bigint NOT NULL DEFAULT 0,
  `last_login` bigint NOT NULL DEFAULT 0,
  `first_download` bigint NOT NULL DEFAULT 0,
  `first_upload` bigint NOT NULL DEFAULT 0,
  `last_password_change` bigint NOT NULL DEFAULT 0,
  `filters` longtext NULL,
  `filesystem` longtext NULL,
  `additional_info` longtext NULL,
  `email` varchar(255) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}folders` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `description` varchar(512) NULL,
  `path` longtext NULL,
  `used_quota_size` bigint NOT NULL DEFAULT 0,
  `used_quota_files` integer NOT NULL DEFAULT 0,
  `last_quota_update` bigint NOT NULL DEFAULT 0,
  `filesystem` longtext NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}users_folders_mapping` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `virtual_path` varchar(512) NOT NULL,
  `quota_size` bigint NOT NULL DEFAULT 0,
  `quota_files` integer NOT NULL DEFAULT 0,
  `folder_id` integer NOT NULL,
  `user_id` integer NOT NULL,
  CONSTRAINT `{{prefix}}unique_user_folder_mapping` UNIQUE (`user_id`, `folder_id`),
  CONSTRAINT `{{prefix}}users_folders_mapping_folder_id_fk` FOREIGN KEY (`folder_id`) REFERENCES `{{prefix}}folders` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}users_folders_mapping_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `{{prefix}}users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}admins` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `username` varchar(255) NOT NULL UNIQUE,
  `description` varchar(512) NULL,
  `password` varchar(255) NOT NULL,
  `email` varchar(255) NULL,
  `status` integer NOT NULL DEFAULT 1,
  `permissions` longtext NOT NULL,
  `filters` longtext NULL,
  `additional_info` longtext NULL,
  `last_login` bigint NOT NULL DEFAULT 0,
  `created_at` bigint NOT NULL DEFAULT 0,
  `updated_at` bigint NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}api_keys` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL,
  `key_id` varchar(50) NOT NULL UNIQUE,
  `api_key` varchar(255) NOT NULL UNIQUE,
  `scope` integer NOT NULL,
  `created_at` bigint NOT NULL DEFAULT 0,
  `updated_at` bigint NOT NULL DEFAULT 0,
  `last_use_at` bigint NOT NULL DEFAULT 0,
  `expires_at` bigint NOT NULL DEFAULT 0,
  `description` longtext NULL,
  `admin_id` integer NULL,
  `user_id` integer NULL,
  CONSTRAINT `{{prefix}}api_keys_admin_id_fk` FOREIGN KEY (`admin_id`) REFERENCES `{{prefix}}admins` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}api_keys_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `{{prefix}}users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
