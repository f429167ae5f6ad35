/**
 * Building the user search filter without LDAP injection: the login name is
 * escaped as an RFC 4515 assertion value before it replaces `%username%`, so
 * `*`, `(`, `)`, `\` and NUL match themselves and can never widen the search
 * (`*` as a wildcard, `)(uid=*` closing the clause and adding another).
 */

const SPECIAL = /[*()\\\u0000]/g;

/** RFC 4515 section 3: `*` `(` `)` `\` NUL as `\XX` (two hex digits). */
export function escapeFilterValue(value: string): string {
  return value.replace(SPECIAL, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export const USERNAME_PLACEHOLDER = '%username%';

/** The configured query with every `%username%` replaced by the escaped login name. */
export function userFilter(query: string, loginName: string): string {
  return query.split(USERNAME_PLACEHOLDER).join(escapeFilterValue(loginName));
}
