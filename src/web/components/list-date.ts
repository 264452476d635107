// How a list shows when a message was written (its Date header, the same time everywhere: Inbox+, a
// client's Emails and Log tabs): the time for today, day and month this year, the date before. When it
// reached the firm is shown in the message itself.
type FormatDate = (value: Date | string, options?: Intl.DateTimeFormatOptions) => string;

export function listDate(formatDate: FormatDate, iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (date.toDateString() === now.toDateString()) return formatDate(date, { timeStyle: 'short' });
  if (date.getFullYear() === now.getFullYear()) return formatDate(date, { day: 'numeric', month: 'short' });
  return formatDate(date, { dateStyle: 'medium' });
}
