/** Date arithmetic for Retain Longitudinal Temporal Information with Modified Dates. */

const DAY_MS = 86_400_000;

function shiftYmd(y: number, m: number, d: number, days: number): string | undefined {
  const t = Date.UTC(y, m - 1, d);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
  const s = new Date(t + days * DAY_MS);
  const year = s.getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  return `${String(year).padStart(4, '0')}${String(s.getUTCMonth() + 1).padStart(2, '0')}${String(s.getUTCDate()).padStart(2, '0')}`;
}

/** Shifts one DA value (YYYYMMDD, or the old YYYY.MM.DD); undefined when it is not a valid date. */
export function shiftDate(value: string, days: number): string | undefined {
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  return shiftYmd(+m[1], +m[2], +m[3], days);
}

/**
 * Shifts one DT value, keeping its precision, time and UTC offset. A value with only a year or a
 * month is shifted as its first day and written back at the same precision.
 */
export function shiftDateTime(value: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?([+-]\d{4})?$/.exec(value.trim());
  if (!m) return undefined;
  const shifted = shiftYmd(+m[1], m[2] ? +m[2] : 1, m[3] ? +m[3] : 1, days);
  if (!shifted) return undefined;
  const datePart = m[3] ? shifted : m[2] ? shifted.slice(0, 6) : shifted.slice(0, 4);
  return datePart + (m[4] ?? '') + (m[8] ?? '');
}
