-- sftpgo-ts schema 7: a virtual folder mount may expose only a sub-directory of the folder (SFTPGo's subpath on the
-- users/groups folder mappings; '' mounts the whole folder). Validation still allows one mount per folder and owner,
-- so the (owner, folder) unique constraints stay as they are.
ALTER TABLE "{{prefix}}users_folders_mapping" ADD COLUMN "subpath" text NOT NULL DEFAULT '';
ALTER TABLE "{{prefix}}groups_folders_mapping" ADD COLUMN "subpath" text NOT NULL DEFAULT '';
