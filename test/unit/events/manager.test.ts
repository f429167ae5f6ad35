/** The event manager's pure parts: cron fields, placeholders, condition patterns. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesFsEvent, matchesPatterns } from '../../../src/events/manager/conditions';
import { cronMatches, parseSchedule, timeFields } from '../../../src/events/manager/cron';
import { emptyParams, replacePlaceholders, replacements } from '../../../src/events/manager/params';
import { buildEndpoint } from '../../../src/events/manager/actions-http';

const at = (iso: string): ReturnType<typeof timeFields> => timeFields(Date.parse(iso), false);

test('cron: SFTPGo fields at minute 0, an optional minute, names, steps, ranges', () => {
  const nightly = parseSchedule({ hour: '2', day_of_week: '*', day_of_month: '*', month: '*' });
  assert.equal(cronMatches(nightly, at('2026-03-10T02:00:00Z')), true);
  assert.equal(cronMatches(nightly, at('2026-03-10T02:01:00Z')), false, 'minute 0 only without a minute field');
  const quarter = parseSchedule({ minute: '*/15', hour: '8-18', day_of_week: 'MON-FRI', day_of_month: '*', month: 'jan,mar' });
  assert.equal(cronMatches(quarter, at('2026-03-10T08:45:00Z')), true, 'a Tuesday in March');
  assert.equal(cronMatches(quarter, at('2026-03-14T08:45:00Z')), false, 'a Saturday');
  assert.equal(cronMatches(quarter, at('2026-04-14T08:45:00Z')), false, 'April');
  // day of month and day of week both restricted: either matches (robfig/cron)
  const either = parseSchedule({ hour: '0', day_of_week: '0', day_of_month: '1', month: '*' });
  assert.equal(cronMatches(either, at('2026-03-01T00:00:00Z')), true);
  assert.equal(cronMatches(either, at('2026-03-08T00:00:00Z')), true, 'a Sunday');
  assert.equal(cronMatches(either, at('2026-03-09T00:00:00Z')), false);
  assert.equal(cronMatches(parseSchedule({ hour: '0', day_of_week: '7', day_of_month: '*', month: '*' }), at('2026-03-08T00:00:00Z')), true, '7 is Sunday');
  for (const hour of ['24', '', '1-', '*/0', 'x', '1/2/3']) {
    assert.throws(() => parseSchedule({ hour, day_of_week: '*', day_of_month: '*', month: '*' }), Error, hour);
  }
});

test('placeholders: SFTPGo names, escape modes, unknown ones kept, one pass', () => {
  const p = {
    ...emptyParams('upload', Date.UTC(2026, 2, 10, 2, 5, 7, 42)), name: 'u"1', virtualPath: '/in box/a.tar.gz', objectName: 'a.tar.gz',
    extension: '.gz', fileSize: 12, protocol: 'SFTP', ip: '10.0.0.1', errors: ['x <y>'],
  };
  const t = (mode: 0 | 1 | 2): [string, string][] => replacements(p, mode, false);
  assert.equal(replacePlaceholders('{{.Name}} {{.Event}} {{.VirtualPath}} {{.VirtualDirPath}} {{.ObjectBaseName}} {{.Ext}} {{.FileSize}}', t(0)),
    'u"1 upload /in box/a.tar.gz /in box a.tar .gz 12');
  assert.equal(replacePlaceholders('{{.EscapedVirtualPath}}', t(0)), '%2Fin+box%2Fa.tar.gz');
  assert.equal(replacePlaceholders('{{.DateTime}} {{.Year}}{{.Month}}{{.Day}} {{.Hour}}:{{.Minute}}', t(0)), '2026-03-10T02:05:07.042 20260310 02:05');
  assert.equal(replacePlaceholders('{{.Timestamp}}', t(0)), '1773108307042000000');
  assert.equal(replacePlaceholders('{"n":"{{.Name}}"}', t(1)), '{"n":"u\\"1"}');
  assert.equal(replacePlaceholders('<b>{{.ErrorString}}</b>', t(2)), '<b>x &lt;y&gt;</b>');
  assert.equal(replacePlaceholders('{{.Nope}} {{.StatusString}}', t(0)), '{{.Nope}} OK');
  // a value containing a placeholder is not expanded again
  assert.equal(replacePlaceholders('{{.Name}}', replacements({ ...p, name: '{{.IP}}' }, 0, false)), '{{.IP}}');
});

test('conditions: plain patterns match at once, inverse ones must all hold; fs paths, sizes, statuses, protocols', () => {
  assert.equal(matchesPatterns('alice', [{ pattern: 'a*' }]), true);
  assert.equal(matchesPatterns('bob', [{ pattern: 'a*' }]), false);
  assert.equal(matchesPatterns('bob', [{ pattern: 'a*', inverse_match: true }]), true);
  assert.equal(matchesPatterns('alice', [{ pattern: 'a*', inverse_match: true }, { pattern: 'b*', inverse_match: true }]), false);
  const p = { ...emptyParams('upload', 0), name: 'alice', virtualPath: '/inbox/x.csv', fileSize: 100, protocol: 'FTP', status: 1 };
  assert.equal(matchesFsEvent({ fs_paths: [{ pattern: '/inbox/*.csv' }] }, p), true);
  assert.equal(matchesFsEvent({ fs_paths: [{ pattern: '/inbox/*.csv' }] }, { ...p, virtualPath: '/inbox/sub/x.csv' }), false);
  assert.equal(matchesFsEvent({ min_size: 101 }, p), false);
  assert.equal(matchesFsEvent({ max_size: 99 }, p), false);
  assert.equal(matchesFsEvent({ event_statuses: [2, 3] }, p), false);
  assert.equal(matchesFsEvent({ protocols: ['SFTP'] }, p), false);
  assert.equal(matchesFsEvent({ group_names: [{ pattern: 'g1' }] }, p), false, 'a user without groups does not match a group condition');
});

test('HTTP endpoint: placeholder values are escaped, they cannot add query parameters or change the host', () => {
  const p = { ...emptyParams('upload', 0), name: 'evil&admin=1@x/y', virtualPath: '/a b/c#d' };
  const env = { replace: (s: string, m: 0 | 1): string => replacePlaceholders(s, replacements(p, m, false)), openFile: () => Promise.reject(new Error('no')), password: '' };
  const u = buildEndpoint({ endpoint: 'http://127.0.0.1:1/u/{{.Name}}{{.VirtualPath}}?who={{.Name}}&keep={{.Nope}}', query_parameters: [{ key: 'p', value: '{{.VirtualPath}}' }] }, env);
  assert.equal(u.host, '127.0.0.1:1');
  assert.equal(u.pathname, '/u/evil%26admin%3D1%40x/y/a%20b/c%23d');
  assert.equal(u.searchParams.get('who'), 'evil&admin=1@x/y');
  assert.equal(u.searchParams.get('admin'), null);
  assert.equal(u.searchParams.get('keep'), '{{.Nope}}');
  assert.equal(u.searchParams.get('p'), '/a b/c#d');
});
