// Parses a Date header strictly enough that an impossible or absurd date becomes null (the caller
// then uses the IMAP INTERNALDATE) instead of a rolled-over, "now" or out-of-range timestamp.

/**
 * Accepted range. Below: no e-mail predates 1970 (such dates come from broken clocks or epoch-0
 * bugs); above: far beyond any real mail, and PostgreSQL/JS limits (year 300000 in hostile mail).
 */
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
// RFC 5322 §4.3 obsolete zones; military letters and unknown names mean "no zone information" (-0000).
const ZONES: Record<string, number> = { ut: 0, utc: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };

// [day-name ","] day month year hour ":" minute [":" second ["." fraction]] [zone] — with the obsolete
// forms RFC 5322 §4.3 tells a reader to accept (2/3-digit years, named zones, one-digit hours).
const RFC5322 = /^(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[-\s]\s*([a-z]{3})[a-z]*\.?\s*[-\s]\s*(\d{2,})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:([+-]?)(\d{3,4})|([a-z]{1,5}))?$/iu;
// ISO 8601 as some automated senders write it: 2024-03-01T10:00:00Z, 2024-03-01 10:00:00 +01:00.
const ISO = /^(\d{4})-(\d{2})-(\d{2})[t\s](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(z|[+-]\d{2}:?\d{2})?$/iu;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

function build(year: number, month: number, day: number, hour: number, minute: number, second: number, offsetMinutes: number): Date | null {
  if (month < 0 || month > 11 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  if (Math.abs(offsetMinutes) > 14 * 60) return null; // no real zone is further than ±14:00
  // A leap second (:60) is the last second of the minute for our purposes.
  const time = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offsetMinutes * 60_000;
  if (!(time >= MIN_TIME && time <= MAX_TIME)) return null;
  return new Date(time);
}

/**
 * The instant a Date header names, or null when it is missing, unparsable, impossible (31 February,
 * 25:61, zone +2400) or outside 1970..9999. Comments are ignored; a missing or unknown zone is UTC.
 */
export function parseMailDate(value: string | null | undefined): Date | null {
  if (typeof value !== 'string') return null;
  // Comments first (RFC 5322 CFWS): "Wed, 20 Sep 1995 00:19:00 (EDT) -0400".
  const s = value.replace(/\([^()]*\)/gu, ' ').replace(/\s+/gu, ' ').trim();
  if (s.length === 0 || s.length > 200) return null;

  const m = RFC5322.exec(s);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month === undefined) return null;
    let year = Number(m[3]);
    // RFC 5322 §4.3: two-digit years 00-49 are 2000-2049, 50-99 are 1950-1999; three digits add 1900.
    if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
    else if (m[3]!.length === 3) year += 1900;
    if (year > 9999) return null;
    let offset = 0;
    if (m[8] !== undefined) {
      const digits = m[8].padStart(4, '0'); // "-600" from old mailers means -0600
      const hh = Number(digits.slice(0, 2));
      const mm = Number(digits.slice(2));
      if (mm > 59) return null;
      offset = (hh * 60 + mm) * (m[7] === '-' ? -1 : 1);
    } else if (m[9] !== undefined) {
      offset = ZONES[m[9].toLowerCase()] ?? 0;
    }
    return build(year, month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), offset);
  }

  const iso = ISO.exec(s);
  if (iso) {
    let offset = 0;
    const zone = iso[7];
    if (zone !== undefined && zone.toLowerCase() !== 'z') {
      const digits = zone.slice(1).replace(':', '');
      const mm = Number(digits.slice(2));
      if (mm > 59) return null;
      offset = (Number(digits.slice(0, 2)) * 60 + mm) * (zone.startsWith('-') ? -1 : 1);
    }
    return build(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]), Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0), offset);
  }
  return null;
}
