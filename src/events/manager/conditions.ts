/**
 * Rule conditions (SFTPGo checkEventConditionPatterns and friends): names,
 * groups and roles with glob patterns and inverse matches, fs paths,
 * protocols, provider objects, file size bounds and event statuses.
 */
import type { ConditionOptions, ConditionPattern } from '../../dataprovider/event-models';
import { globMatch } from '../../common/glob';
import type { EventParams } from './params';

function patternMatches(p: ConditionPattern, name: string): boolean {
  const matched = globMatch(p.pattern, name) === true;
  return p.inverse_match ? !matched : matched;
}

/** SFTPGo: a plain pattern that matches wins at once; inverse patterns must all hold. */
export function matchesPatterns(name: string, patterns: readonly ConditionPattern[] | undefined): boolean {
  if (!patterns || patterns.length === 0) return true;
  let matches = false;
  for (const p of patterns) {
    if (p.inverse_match) {
      if (patternMatches(p, name)) matches = true;
      else return false;
    } else if (patternMatches(p, name)) {
      return true;
    }
  }
  return matches;
}

export function matchesUser(o: ConditionOptions, name: string, groups: readonly string[], role: string): boolean {
  if (!matchesPatterns(name, o.names)) return false;
  if (o.group_names && o.group_names.length > 0 && !groups.some((g) => matchesPatterns(g, o.group_names))) return false;
  return matchesPatterns(role, o.role_names);
}

export function matchesFsEvent(o: ConditionOptions, p: EventParams): boolean {
  if (!matchesUser(o, p.name, p.groups, p.role)) return false;
  if (!matchesPatterns(p.virtualPath, o.fs_paths)) return false;
  if (o.protocols && o.protocols.length > 0 && !o.protocols.includes(p.protocol)) return false;
  if (o.event_statuses && o.event_statuses.length > 0 && !o.event_statuses.includes(p.status)) return false;
  if ((o.min_size ?? 0) > 0 && p.fileSize < (o.min_size ?? 0)) return false;
  if ((o.max_size ?? 0) > 0 && p.fileSize > (o.max_size ?? 0)) return false;
  return true;
}

export function matchesProviderEvent(o: ConditionOptions, p: EventParams): boolean {
  if (!matchesPatterns(p.name, o.names)) return false;
  if (!matchesPatterns(p.role, o.role_names)) return false;
  return !(o.provider_objects && o.provider_objects.length > 0 && !o.provider_objects.includes(p.objectType));
}
