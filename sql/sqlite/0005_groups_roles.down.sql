-- Reverts schema 2: groups, roles and their mappings go; users and admins keep everything else.
DROP TABLE IF EXISTS "{{prefix}}admins_groups_mapping";
DROP TABLE IF EXISTS "{{prefix}}admins_roles_mapping";
DROP TABLE IF EXISTS "{{prefix}}users_roles_mapping";
DROP TABLE IF EXISTS "{{prefix}}users_groups_mapping";
DROP TABLE IF EXISTS "{{prefix}}groups_folders_mapping";
DROP TABLE IF EXISTS "{{prefix}}groups";
DROP TABLE IF EXISTS "{{prefix}}roles";
