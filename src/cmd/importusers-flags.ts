/** The flags of `sftpgo importusers`, apart from the command so `--help` and `gen` list them without loading the password hashers. */
import type { FlagSpec } from './args';

export const importUsersFlags: FlagSpec[] = [
  { name: 'passwd', type: 'string', default: '/etc/passwd', help: 'passwd file to read' },
  { name: 'shadow', type: 'string', default: '/etc/shadow', help: 'shadow file to read (usually readable by root only)' },
  { name: 'min-uid', type: 'int', default: -1, help: 'if >= 0 only import users with a UID greater or equal to this value' },
  { name: 'max-uid', type: 'int', default: -1, help: 'if >= 0 only import users with a UID lower or equal to this value' },
  { name: 'usernames', type: 'list', default: [], help: 'only import these users (repeatable or comma-separated)' },
  { name: 'force-uid', type: 'int', default: -1, help: 'if >= 0 the imported users get this UID' },
  { name: 'force-gid', type: 'int', default: -1, help: 'if >= 0 the imported users get this GID' },
  { name: 'url', type: 'string', env: 'SFTPGO_IMPORT_URL', default: 'http://127.0.0.1:8080', help: 'base URL of the REST API' },
  { name: 'admin', type: 'string', default: '', help: 'admin username; the password is prompted (or read from stdin)' },
  { name: 'api-key', type: 'string', env: 'SFTPGO_IMPORT_API_KEY', default: '', help: 'API key instead of an admin password' },
  { name: 'update', type: 'bool', default: false, help: 'update users that already exist instead of skipping them' },
  { name: 'output', type: 'string', default: '', help: 'write a loaddata dump to this file instead of calling the API' },
];
