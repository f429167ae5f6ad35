-- sftpgo-ts schema 4 (MySQL/MariaDB): the event manager's actions and rules. DDL commits implicitly on
-- MySQL: IF NOT EXISTS lets a failed run be re-run.
CREATE TABLE IF NOT EXISTS `{{prefix}}events_actions` (
  `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `description` varchar(512) NULL,
  `type` integer NOT NULL,
  `options` longtext NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `{{prefix}}events_rules` (
  `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `status` integer NOT NULL DEFAULT 1,
  `description` varchar(512) NULL,
  `created_at` bigint NOT NULL,
  `updated_at` bigint NOT NULL,
  `trigger` integer NOT NULL,
  `conditions` longtext NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `{{prefix}}rules_actions_mapping` (
  `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
  `rule_id` integer NOT NULL,
  `action_id` integer NOT NULL,
  `order` integer NOT NULL,
  `options` longtext NOT NULL,
  CONSTRAINT `{{prefix}}unique_rule_action_mapping` UNIQUE (`rule_id`, `action_id`),
  INDEX `{{prefix}}rules_actions_mapping_rule_id_idx` (`rule_id`),
  INDEX `{{prefix}}rules_actions_mapping_action_id_idx` (`action_id`),
  CONSTRAINT `{{prefix}}rules_actions_mapping_rule_id_fk` FOREIGN KEY (`rule_id`) REFERENCES `{{prefix}}events_rules` (`id`) ON DELETE CASCADE,
  CONSTRAINT `{{prefix}}rules_actions_mapping_action_id_fk` FOREIGN KEY (`action_id`) REFERENCES `{{prefix}}events_actions` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
