// Address normalisation decides which client a message is filed under: every row here is a case a
// contact match depends on (the hostile corpus's address-matching and spoofing files included).
import t from 'tap';
import { baseAddress, getAddressDomain, isValidAddress, normalizeAddress } from '../../../src/core/mail/addresses.ts';

t.test('normalizeAddress', async (t) => {
  const cases: Array<[string, string | null, string]> = [
    // From hostile/address-matching-edge-cases.eml (the addr-specs as the header parser hands them over)
    ['Alice.Client@Client.Example', 'alice.client@client.example', 'case folded in both parts'],
    ['  alice.client@client.example  ', 'alice.client@client.example', 'trimmed'],
    ['"alice.client"@client.example', 'alice.client@client.example', 'needlessly quoted local part is the same address'],
    ['alice.client+invoices@client.example', 'alice.client+invoices@client.example', 'plus-tag kept: exact match policy'],
    ['alice.client@client.example.', 'alice.client@client.example', 'trailing dot of a fully-qualified domain'],
    ['<alice.client@client.example>', 'alice.client@client.example', 'angle brackets'],
    ['alice.client@[192.0.2.10]', 'alice.client@[192.0.2.10]', 'address literal kept, never equal to a host name'],
    ['aliceclient@client.example', 'aliceclient@client.example', 'dots are significant (no Gmail rule)'],
    ['alice.client@clïent.example', 'alice.client@xn--clent-dta.example', 'IDN domain to punycode'],
    ['alice.client@xn--clent-dta.example', 'alice.client@xn--clent-dta.example', 'punycode stays punycode'],
    ['alice.client@CLÏENT.example', 'alice.client@xn--clent-dta.example', 'IDN case-folded before punycode'],
    // The file's "punycode form" xn--clent-zsa is really cílent (í, not ï): a second look-alike, not the same domain.
    ['alice.client@cílent.example', 'alice.client@xn--clent-zsa.example', 'another look-alike keeps its own punycode'],
    ['ålice@client.example', 'ålice@client.example', 'EAI local part kept (RFC 6532)'],
    ['a\u030alice@client.example', 'ålice@client.example', 'EAI local part NFC-normalised'],
    ['alice.client@client', 'alice.client@client', 'single-label domain is syntactically valid'],
    // from-idn-homoglyph.eml: the Cyrillic look-alike must not collapse onto the real domain
    ['service@pаypal.example', 'service@xn--pypal-4ve.example', 'Cyrillic homoglyph becomes a visibly different domain'],
    ['alice@client.example.attacker.example', 'alice@client.example.attacker.example', 'client domain as a subdomain prefix is another domain'],
    // header-injection-from.eml: a quoted local part with specials stays quoted and never becomes the inner address
    ['"x%0d%0aBcc:y@example.net"@client.example', '"x%0d%0abcc:y@example.net"@client.example', 'quoted local part with @ keeps its quotes'],
    ['"john doe"@example.com', '"john doe"@example.com', 'quoted local part with a space'],
    ['"a\\"b"@example.com', '"a\\"b"@example.com', 'escaped quote kept escaped'],
    ['"a\\b"@example.com', 'ab@example.com', 'needless backslash escape removed'],
    // garbage
    ['', null, 'empty'],
    ['@', null, 'only @'],
    ['alice', null, 'no @'],
    ['alice@', null, 'no domain'],
    ['@client.example', null, 'no local part'],
    ['alice client@example.com', null, 'space in local part'],
    ['alice@exa mple.com', null, 'space in domain'],
    ['alice@@example.com', null, 'double @ (unquoted)'],
    ['alice@example..com', null, 'empty domain label'],
    ['alice@-example.com', null, 'label starting with a hyphen'],
    ['alice@exa_mple.com', 'alice@exa_mple.com', 'underscore is allowed in DNS names'],
    ['al\u0000ice@example.com', null, 'NUL'],
    ['alice\r\n@example.com', null, 'CRLF'],
    ['ali\u202ece@example.com', null, 'bidi override'],
    ['ali\u200bce@example.com', null, 'zero-width space'],
    ['alice@exam\u200bple.com', null, 'zero-width space in domain'],
    ['"alice@example.com', null, 'unbalanced quote'],
    ['alice@[999.0.0.1]', null, 'bad address literal'],
    ['alice@[ipv6:2001:db8::1]', 'alice@[ipv6:2001:db8::1]', 'IPv6 literal'],
    ['Alice <alice@example.com>', null, 'a name-addr is not an addr-spec: callers pass the address only'],
    [`${'a'.repeat(310)}@example.com`, null, 'over 320 octets'],
    [`alice@${'a'.repeat(64)}.com`, null, 'label over 63 octets'],
  ];
  for (const [raw, want, why] of cases) t.equal(normalizeAddress(raw), want, `${why}: ${JSON.stringify(raw)}`);
  t.equal(normalizeAddress(null), null, 'null');
  t.equal(normalizeAddress(undefined), null, 'undefined');
  t.equal(isValidAddress('a@b.example'), true);
  t.equal(isValidAddress('a b@b.example'), false);
});

t.test('normalisation is idempotent', async (t) => {
  for (const raw of ['Alice.Client@Client.Example', 'alice.client@clïent.example', '"john doe"@example.com', 'a+b@[192.0.2.1]', '"a\\"b"@example.com']) {
    const once = normalizeAddress(raw);
    t.ok(once, raw);
    t.equal(normalizeAddress(once), once, `idempotent: ${raw}`);
  }
});

t.test('baseAddress strips a +tag only', async (t) => {
  const cases: Array<[string, string]> = [
    ['alice.client+invoices@client.example', 'alice.client@client.example'],
    ['alice+a+b@client.example', 'alice@client.example'],
    ['alice@client.example', 'alice@client.example'],
    ['+alice@client.example', '+alice@client.example'],
    ['"a+b c"@client.example', '"a+b c"@client.example'],
  ];
  for (const [a, want] of cases) t.equal(baseAddress(a), want, a);
  t.equal(getAddressDomain('alice@client.example'), 'client.example');
  t.equal(getAddressDomain('"x@y"@client.example'), 'client.example');
});
