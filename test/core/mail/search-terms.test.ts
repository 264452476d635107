// The application builds message search vectors and reads queries with one tokenizer
// (core/mail/search-terms.ts). Checked against real PostgreSQL: the literals must be valid tsvector and
// tsquery input, and a query must find what staff would expect in the text it was built from.
import t from 'tap';
import { sql } from 'kysely';
import { kysely, openDb } from '../../../src/core/platform/db.ts';
import { searchTerms, tsqueryLiteral, tsvectorBinary, tsvectorLiteral } from '../../../src/core/mail/search-terms.ts';
import { testConfig } from '../../support/env.ts';

const db = await openDb(testConfig(), { migrate: false, poolMax: 2 });
t.teardown(() => db.close());

/** Does PostgreSQL find `query` in a message with these fields? */
async function matches(fields: string[], query: string): Promise<boolean> {
  const q = tsqueryLiteral(query);
  if (q === null) return false;
  const rows = await db.em.fork().execute<{ hit: boolean }[]>('select ?::tsvector @@ ?::tsquery as hit', [tsvectorLiteral(fields), q]);
  return rows[0]!.hit;
}

t.test('terms are case-folded, unaccented runs of letters and digits', async (t) => {
  t.same(searchTerms('Declaración de la RENTA 2024'), ['declaracion', 'de', 'la', 'renta', '2024']);
  t.same(searchTerms('Straße, Ærø, coöperatie, ﬁnanciën'), ['strasse', 'aero', 'cooperatie', 'financien'], 'German, Danish and Dutch letters fold');
  t.same(searchTerms('juan.perez@cliente.es'), ['juan', 'perez', 'cliente', 'es'], 'an address is its parts');
  t.same(searchTerms('привет 世界'), ['привет', '世界'], 'other scripts are kept');
  t.same(searchTerms(`x ${'A'.repeat(500)} y`), ['x', 'y'], 'base64-like runs are not terms');
});

t.test('queries find accented text without accents, and the other way round', async (t) => {
  const mail = ['Consulta', 'María López', 'maria@cliente.es', 'Le enviamos la DECLARACIÓN trimestral del IVA.'];
  t.ok(await matches(mail, 'declaracion'));
  t.ok(await matches(mail, 'Declaración IVA'), 'all words must be there');
  t.notOk(await matches(mail, 'declaracion renta'), 'a missing word fails the AND');
  t.ok(await matches(mail, 'maria@cliente.es'), 'the sender address');
  t.ok(await matches(mail, 'lopez'), 'the sender name');
  t.notOk(await matches(mail, 'maria@otro.es'), 'another address of the same person');
});

t.test('web-search syntax: phrases, or, exclusions', async (t) => {
  const mail = ['Re: factura', '', '', 'Adjunto la factura del primer trimestre. Saludos.'];
  t.ok(await matches(mail, '"primer trimestre"'), 'a phrase in order');
  t.notOk(await matches(mail, '"trimestre primer"'), 'not out of order');
  t.ok(await matches(mail, 'recibo or factura'));
  t.notOk(await matches(mail, 'factura -trimestre'), 'an excluded word rules it out');
  t.ok(await matches(mail, 'factura -hacienda'));
  t.equal(tsqueryLiteral('-factura'), null, 'only exclusions look for nothing');
  t.equal(tsqueryLiteral('  or  '), null);
});

t.test('anything typed into the search box is a valid query', async (t) => {
  for (const q of ['"(&|!:*', "it's", "'; drop table message; --", '"unclosed phrase', 'a <-> b', '\\', '-"x y"', '💶 100€']) {
    const literal = tsqueryLiteral(q);
    if (literal === null) continue;
    const rows = await db.em.fork().execute<{ ok: boolean }[]>("select ''::tsvector @@ ?::tsquery is not null as ok", [literal]);
    t.ok(rows[0]!.ok, `accepted: ${q}`);
  }
});

t.test('vectors stay within PostgreSQL limits for long and repetitive text', async (t) => {
  const text = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? 'iva' : `w${(i / 2) % 50}`)).join(' ');
  const rows = await db.em.fork().execute<{ n: number }[]>('select length(?::tsvector)::int as n', [tsvectorLiteral([text])]);
  t.equal(rows[0]!.n, 51, 'every distinct term kept');
  t.ok(await matches([text], 'iva w49'));
});

t.test('the binary vector PostgreSQL is sent is the same vector as the literal', async (t) => {
  const long = Array.from({ length: 20_000 }, (_, i) => (i % 3 ? 'iva' : `w${i % 300}`)).join(' ');
  const cases: string[][] = [
    ['Consulta', 'María López', 'maria@cliente.es', 'Le enviamos la DECLARACIÓN trimestral del IVA.'],
    ['привет 世界 Straße', '', '', 'ﬁnanciën coöperatie'],
    ['', '', '', ''],
    // Past 16,383 positions (PostgreSQL's last) and 256 positions of one term.
    ['subject', 'name', 'a@b.es', long],
  ];
  for (const fields of cases) {
    // A Buffer parameter goes in binary through node-postgres (as the sync stores it).
    const { rows } = await sql<{ binary: string; literal: string }>`select ${tsvectorBinary(fields)}::tsvector::text as binary, ${tsvectorLiteral(fields)}::tsvector::text as literal`
      .execute(kysely(db.em.fork()));
    t.equal(rows[0]!.binary, rows[0]!.literal, `same vector: ${fields.join(' | ').slice(0, 40)}`);
  }
  const { rows: [row] } = await sql<{ hit: boolean }>`select ${tsvectorBinary(['Re: factura', '', '', 'Adjunto la factura del primer trimestre.'])}::tsvector @@ ${tsqueryLiteral('"primer trimestre"')}::tsquery as hit`
    .execute(kysely(db.em.fork()));
  t.ok(row!.hit, 'a phrase is found in a binary vector');
});
