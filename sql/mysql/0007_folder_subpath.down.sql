-- Reverts schema 7: the mappings lose their subpath (mounts go back to exposing the whole folder).
ALTER TABLE `{{prefix}}users_folders_mapping` DROP COLUMN `subpath`;
ALTER TABLE `{{prefix}}groups_folders_mapping` DROP COLUMN `subpath`;
