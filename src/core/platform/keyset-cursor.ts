// Opaque keyset cursors for newest-first lists: (timestamp at PostgreSQL's microsecond precision, id).
// Must not round through JS Date (milliseconds): two rows a few microseconds apart would repeat or vanish.
import { sql, type Expression, type RawBuilder } from 'kysely';
import { InvalidInputError } from './errors.ts';

export type KeysetPosition = { at: string; id: string };

/** A timestamptz column as an exact UTC ISO string (microseconds) for the cursor, e.g. `.select((eb) => cursorTime(eb.ref('m.sent_at')).as('k'))` (to_char has no builder form). */
export const cursorTime = (column: Expression<Date | string | null>): RawBuilder<string> =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const ISO_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(pos: KeysetPosition): string {
  return Buffer.from(JSON.stringify([pos.at, pos.id])).toString('base64url');
}

/** Throws InvalidInputError (field `cursor`) for anything we did not hand out. */
export function decodeCursor(cursor: string): KeysetPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string' || !ISO_US.test(parsed[0]) || !UUID.test(parsed[1])) {
    throw new InvalidInputError('invalid_cursor', 'The cursor is not one this server handed out', 'cursor');
  }
  return { at: parsed[0], id: parsed[1] };
}

/** A cursor's time as a timestamptz parameter for Kysely queries, exact to the microsecond (a JS Date would round to milliseconds). */
export const cursorTimestamp = (pos: KeysetPosition): RawBuilder<Date> => sql<Date>`${pos.at}::timestamptz`;
