// Reads the header of a message the sending tests captured (from the SMTP sink or Dovecot).
/** Header fields of a raw message, unfolded, as [lowercased name, value] in order. */
export function headerFields(raw: Buffer): [string, string][] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
  return head.replace(/\r\n[ \t]/g, ' ').split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
}
export const headerValues = (raw: Buffer, name: string) => headerFields(raw).filter(([n]) => n === name).map(([, v]) => v);
