// A small cron parser, evaluated in UTC: "minute hour day-of-month month day-of-week", with an
// optional leading seconds field ("second minute hour …", six fields) as BullMQ's parser has, so a
// schedule means the same on both queues.
// Supports `*`, numbers, lists (1,2,5), ranges (1-5), steps (*/15, 1-30/5, 10/20) and the names
// JAN..DEC / SUN..SAT. Day-of-week 0 and 7 are both Sunday. As in classic cron, when both
// day-of-month and day-of-week are restricted, a day matches if EITHER matches.

export interface CronSchedule {
  /** {0} for a five-field expression. */
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export class CronParseError extends Error {}

function parseValue(text: string, min: number, max: number, names: string[] | undefined, nameBase: number): number {
  const upper = text.toUpperCase();
  if (names) {
    const i = names.indexOf(upper);
    if (i >= 0) return i + nameBase;
  }
  if (!/^\d+$/.test(text)) throw new CronParseError(`"${text}" is not a number`);
  const n = Number(text);
  if (n < min || n > max) throw new CronParseError(`${n} is outside ${min}-${max}`);
  return n;
}

function parseField(field: string, min: number, max: number, names?: string[], nameBase = 0): { values: Set<number> } {
  const values = new Set<number>();
  if (field === '') throw new CronParseError('empty field');
  for (const part of field.split(',')) {
    const [rangeText, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronParseError(`"${part}" has two steps`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new CronParseError(`bad step in "${part}"`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (rangeText === '*') {
      lo = min;
      hi = max;
    } else if (rangeText.includes('-')) {
      const [a, b, more] = rangeText.split('-');
      if (more !== undefined) throw new CronParseError(`bad range "${rangeText}"`);
      lo = parseValue(a, min, max, names, nameBase);
      hi = parseValue(b, min, max, names, nameBase);
      if (hi < lo) throw new CronParseError(`range "${rangeText}" runs backwards`);
    } else {
      lo = parseValue(rangeText, min, max, names, nameBase);
      // "10/20" means from 10 to the end in steps of 20.
      hi = stepText !== undefined ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values };
}

export function parseCron(expr: string): CronSchedule {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronParseError(`cron "${expr}" needs 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first`);
  }
  const seconds = fields.length === 6 ? parseField(fields.shift()!, 0, 59).values : new Set([0]);
  const [mi, h, dom, mo, dow] = fields;
  const minutes = parseField(mi, 0, 59);
  const hours = parseField(h, 0, 23);
  const daysOfMonth = parseField(dom, 1, 31);
  const months = parseField(mo, 1, 12, MONTHS, 1);
  const daysOfWeek = parseField(dow, 0, 7, DAYS, 0);
  if (daysOfWeek.values.has(7)) {
    daysOfWeek.values.delete(7);
    daysOfWeek.values.add(0);
  }
  return {
    seconds,
    minutes: minutes.values,
    hours: hours.values,
    daysOfMonth: daysOfMonth.values,
    months: months.values,
    daysOfWeek: daysOfWeek.values,
    // As in Vixie cron, a field starting with `*` (even `*/2`) counts as unrestricted.
    domRestricted: !dom.startsWith('*'),
    dowRestricted: !dow.startsWith('*'),
  };
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const domOk = s.daysOfMonth.has(d.getUTCDate());
  const dowOk = s.daysOfWeek.has(d.getUTCDay());
  if (s.domRestricted && s.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/** The first fire time strictly after `after` (whole seconds, UTC). Throws on an impossible schedule. */
export function nextRunAfter(expr: string | CronSchedule, after: Date): Date {
  const s = typeof expr === 'string' ? parseCron(expr) : expr;
  const d = new Date(after.getTime());
  d.setUTCMilliseconds(0);
  d.setUTCSeconds(d.getUTCSeconds() + 1);
  // Every satisfiable schedule fires within five years (Feb 29 recurs every 4); "Feb 30" never does.
  const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
  while (d.getTime() <= limit) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    if (!s.seconds.has(d.getUTCSeconds())) {
      // Past the last second of this minute: on to the next minute.
      if (d.getUTCSeconds() === 59) d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      else d.setUTCSeconds(d.getUTCSeconds() + 1, 0);
      continue;
    }
    return d;
  }
  throw new CronParseError(`cron "${typeof expr === 'string' ? expr : '(parsed)'}" never fires`);
}
