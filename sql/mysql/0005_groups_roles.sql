-- sftpgo-ts schema 5 (MySQL/MariaDB): groups and roles (SFTPGo 2.7). References are mapping rows, so reverting
-- is dropping tables. The service refuses deleting a group still used by users or a role held by admins.
CREATE TABLE IF NOT EXISTS `{{prefix}}roles` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `description` varchar(512) NULL,
  `created_at` bigint NOT NULL DEFAULT 0,
  `updated_at` bigint NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}groups` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `description` varchar(512) NULL,
  `created_at` bigint NOT NULL DEFAULT 0,
  `updated_at` bigint NOT NULL DEFAULT 0,
  `user_settings` longtext NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}groups_folders_mapping` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `virtual_path` varchar(512) NOT NULL,
  `quota_size` bigint NOT NULL DEFAULT 0,
  `quota_files` integer NOT NULL DEFAULT 0,
  `folder_id` integer NOT NULL,
  `group_id` integer NOT NULL,
  CONSTRAINT `{{prefix}}unique_group_folder_mapping` UNIQUE (`group_id`, `folder_id`),
  CONSTRAINT `{{prefix}}groups_folders_mapping_folder_id_fk` FOREIGN KEY (`folder_id`) REFERENCES `{{prefix}}folders` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}groups_folders_mapping_group_id_fk` FOREIGN KEY (`group_id`) REFERENCES `{{prefix}}groups` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}users_groups_mapping` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `user_id` integer NOT NULL,
  `group_id` integer NOT NULL,
  `group_type` integer NOT NULL,
  CONSTRAINT `{{prefix}}unique_user_group_mapping` UNIQUE (`user_id`, `group_id`),
  CONSTRAINT `{{prefix}}users_groups_mapping_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `{{prefix}}users` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}users_groups_mapping_group_id_fk` FOREIGN KEY (`group_id`) REFERENCES `{{prefix}}groups` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}users_roles_mapping` (
  `user_id` integer NOT NULL PRIMARY KEY,
  `role_id` integer NOT NULL,
  CONSTRAINT `{{prefix}}users_roles_mapping_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `{{prefix}}users` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}users_roles_mapping_role_id_fk` FOREIGN KEY (`role_id`) REFERENCES `{{prefix}}roles` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}admins_roles_mapping` (
  `admin_id` integer NOT NULL PRIMARY KEY,
  `role_id` integer NOT NULL,
  CONSTRAINT `{{prefix}}admins_roles_mapping_admin_id_fk` FOREIGN KEY (`admin_id`) REFERENCES `{{prefix}}admins` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}admins_roles_mapping_role_id_fk` FOREIGN KEY (`role_id`) REFERENCES `{{prefix}}roles` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `{{prefix}}admins_groups_mapping` (
  `id` integer NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `admin_id` integer NOT NULL,
  `group_id` integer NOT NULL,
  `options` longtext NULL,
  CONSTRAINT `{{prefix}}unique_admin_group_mapping` UNIQUE (`admin_id`, `group_id`),
  CONSTRAINT `{{prefix}}admins_groups_mapping_admin_id_fk` FOREIGN KEY (`admin_id`) REFERENCES `{{prefix}}admins` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}admins_groups_mapping_group_id_fk` FOREIGN KEY (`group_id`) REFERENCES `{{prefix}}groups` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
