/**
 * SFTPGo schedules are standard cron specs "0 hour dom month dow" (robfig
 * cron's ParseStandard); this server also accepts a minute field. Fields:
 * `*`, `*\/n`, `a`, `a-b`, `a-b/n`, comma lists, month and weekday names.
 * Day matching follows robfig: when day-of-month and day-of-week are both
 * restricted, either may match; otherwise both must.
 */
import type { Schedule } from '../../dataprovider/event-models';

interface Field { values: Set<number>; star: boolean }

export interface CronSpec { minute: Field; hour: Field; dom: Field; month: Field; dow: Field }

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseValue(s: string, names: string[] | undefined, offset: number): number {
  const up = s.toUpperCase();
  if (names) {
    const i = names.indexOf(up);
    if (i >= 0) return i + offset;
  }
  if (!/^\d{1,2}$/.test(s)) throw new Error(`invalid value "${s}"`);
  return Number(s);
}

function parseField(spec: string, min: number, max: number, names?: string[], nameOffset = 0): Field {
  const values = new Set<number>();
  let star = false;
  if (spec.trim() === '') throw new Error('empty field');
  for (const part of spec.split(',')) {
    const [range, stepText] = part.split('/');
    if (range === undefined || part.split('/').length > 2) throw new Error(`invalid field "${part}"`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`invalid step "${stepText ?? ''}"`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min; hi = max;
      if (stepText === undefined) star = true;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2) throw new Error(`invalid range "${range}"`);
      lo = parseValue(bounds[0]!, names, nameOffset);
      hi = bounds.length === 2 ? parseValue(bounds[1]!, names, nameOffset) : stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`value out of range in "${part}" (${min}-${max})`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

export function parseSchedule(s: Schedule): CronSpec {
  const dow = parseField(s.day_of_week.replace(/\b7\b/g, '0'), 0, 6, DAYS);
  return {
    minute: parseField(s.minute ?? '0', 0, 59),
    hour: parseField(s.hour, 0, 23),
    dom: parseField(s.day_of_month, 1, 31),
    month: parseField(s.month, 1, 12, MONTHS, 1),
    dow,
  };
}

/** true when the spec fires in the minute containing `d` (local time fields from `fields`). */
export function cronMatches(c: CronSpec, d: { minute: number; hour: number; day: number; month: number; weekday: number }): boolean {
  if (!c.minute.values.has(d.minute) || !c.hour.values.has(d.hour) || !c.month.values.has(d.month)) return false;
  const domOk = c.dom.values.has(d.day);
  const dowOk = c.dow.values.has(d.weekday);
  return c.dom.star || c.dow.star ? domOk && dowOk : domOk || dowOk;
}

/** The calendar fields of a time, in UTC or local time (common.tz "local", as SFTPGo). */
export function timeFields(ms: number, local: boolean): { minute: number; hour: number; day: number; month: number; weekday: number } {
  const d = new Date(ms);
  return local
    ? { minute: d.getMinutes(), hour: d.getHours(), day: d.getDate(), month: d.getMonth() + 1, weekday: d.getDay() }
    : { minute: d.getUTCMinutes(), hour: d.getUTCHours(), day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() };
}
