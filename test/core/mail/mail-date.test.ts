// A message's date orders the client log; a bad Date header must give null (so the IMAP INTERNALDATE
// is used) rather than "now", a rolled-over day or a value PostgreSQL rejects.
import t from 'tap';
import { parseMailDate } from '../../../src/core/mail/mail-date.ts';

t.test('parseMailDate', async (t) => {
  const rows: Array<[string | null | undefined, string | null, string]> = [
    ['Tue, 03 Mar 2026 10:00:00 +0000', '2026-03-03T10:00:00.000Z', 'RFC 5322'],
    ['Tue, 03 Mar 2026 10:00:00 +0130', '2026-03-03T08:30:00.000Z', 'positive offset'],
    ['Thu, 26 Oct 2023 10:41:55 -0700', '2023-10-26T17:41:55.000Z', 'negative offset'],
    ['3 Mar 2026 10:00 GMT', '2026-03-03T10:00:00.000Z', 'no day name, no seconds, named zone'],
    ['Fri, 23 Aug 2002 2:32:53 -0400', '2002-08-23T06:32:53.000Z', 'one-digit hour'],
    ['Mon, 21 Aug 95 13:30:57 -600', '1995-08-21T19:30:57.000Z', 'two-digit year and three-digit zone'],
    ['Mon, 21 Aug 05 13:30:57 +0000', '2005-08-21T13:30:57.000Z', 'two-digit year below 50 is 20xx'],
    ['Mon, 21 Aug 105 13:30:57 +0000', '2005-08-21T13:30:57.000Z', 'three-digit year adds 1900'],
    ['Wed, 20 Sep 1995 00:19:00 (EDT) -0400', '1995-09-20T04:19:00.000Z', 'comment ignored'],
    ['Wed, 20 Sep 1995 00:19:00 EDT', '1995-09-20T04:19:00.000Z', 'obsolete US zone'],
    ['Wed, 15 Feb 1995 09:38:18', '1995-02-15T09:38:18.000Z', 'no zone: UTC'],
    ['Tue, 17 Jul 2012 22:23:35.882 0000', '2012-07-17T22:23:35.000Z', 'fraction and unsigned zone'],
    ['  Thu, 26 Oct 2023   10:41:55 +0000 ', '2023-10-26T10:41:55.000Z', 'extra whitespace'],
    ['Thu, 26 October 2023 10:41:55 +0000', '2023-10-26T10:41:55.000Z', 'full month name'],
    ['Sat, 31 Dec 2016 23:59:60 +0000', '2016-12-31T23:59:59.000Z', 'leap second'],
    ['Thu, 29 Feb 2024 12:00:00 +0000', '2024-02-29T12:00:00.000Z', 'leap day'],
    ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z', 'ISO 8601'],
    ['2024-03-01 10:00:00 +01:00', '2024-03-01T09:00:00.000Z', 'ISO 8601 with space and offset'],
    // hostile/date-impossible.eml and date-out-of-range.eml
    ['Thu, 31 Feb 2026 25:61:61 +2400', null, 'impossible day, hour, minute, zone'],
    ['Thu, 31 Feb 2026 10:00:00 +0000', null, '31 February alone'],
    ['Thu, 29 Feb 2023 10:00:00 +0000', null, 'no leap day in 2023'],
    ['Tue, 03 Mar 2026 24:00:00 +0000', null, 'hour 24'],
    ['Tue, 03 Mar 2026 10:00:00 +2400', null, 'zone beyond ±14:00'],
    ['Tue, 03 Mar 2026 10:00:00 +0160', null, 'zone minutes 60'],
    ['Sat, 01 Jan 300000 00:00:00 +0000', null, 'year 300000'],
    ['Mon, 01 Jan 0000 00:00:00 -9959', null, 'year 0000 and zone -9959'],
    ['Thu, 01 Jan 1970 00:00:00 +0100', null, 'before 1970 (epoch-0 bug in another zone)'],
    ['Wed, 31 Dec 1969 23:59:59 +0000', null, '1969'],
    // garbage from the real corpus
    ['Thu,', null, 'truncated'],
    ['Pn, 29 paX 2007 21:13:00 +0100', null, 'unknown month'],
    ['Tue, 7 Apr 2026 10:00:t <rimap-test@example.test>', null, 'broken time'],
    ['Wed, 15 Dec 2010    59:10 -0500', null, 'hour 59'],
    ['', null, 'empty'],
    [null, null, 'null'],
    [undefined, null, 'undefined'],
    ['now', null, 'word'],
    ['1709459200', null, 'epoch seconds are not a date format'],
  ];
  for (const [raw, want, why] of rows) {
    const got = parseMailDate(raw);
    t.equal(got === null ? null : got.toISOString(), want, `${why}: ${JSON.stringify(raw)}`);
  }
});
