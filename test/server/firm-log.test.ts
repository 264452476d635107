// The firm-wide log (issue 15) through the full server on real PostgreSQL: every client's records in one list,
// newest first, filtered by period, reason, area, kind and client, paged by keyset cursor; and its .xlsx export
// read back with exceljs, in the user's language (never internal codes such as "call" or "firm").
import t from 'tap';
import ExcelJS from 'exceljs';
import { startTestApp, userSession, type Session } from '../support/app.ts';
import { uniq } from '../support/env.ts';
import { createTestClient } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db } = ta;
type Item = { id: string; subject: string; kind: string; client: { id: string; name: string } };

async function record(s: Session, clientId: string, body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await s.request('POST', `/api/clients/${clientId}/communications`, body);
  if (res.statusCode !== 201) throw new Error(`record: ${res.statusCode} ${res.body}`);
  return res.json();
}

t.test('one list over every client: filters, order, keyset pages, errors; the export in Spanish', async (t) => {
  const admin = await userSession(ta, 'admin');
  const s = await userSession(ta, 'staff', 'Lola Firm');
  const reason = (await admin.request('POST', '/api/reasons', { name: uniq('Annual tax return') })).json();
  const area = (await admin.request('POST', '/api/areas', { name: uniq('Tax') })).json();
  const [a, b] = [await createTestClient(db, uniq('Alfa SL')), await createTestClient(db, uniq('Beta SA'))];
  const call = await record(s, a.id, { kind: 'call', subject: 'Return figures', occurredAt: '2026-03-01T10:00:00Z', reasonId: reason.id, areaId: area.id, notes: 'Figures discussed' });
  const meeting = await record(s, b.id, { kind: 'meeting', subject: 'Return signed', occurredAt: '2026-03-15T09:00:00Z', reasonId: reason.id, initiatedBy: 'client' });
  await record(s, a.id, { kind: 'visit', subject: 'Untagged visit', occurredAt: '2026-03-10T09:00:00Z' });
  await record(s, b.id, { kind: 'letter', subject: 'Last year', occurredAt: '2025-12-01T09:00:00Z', reasonId: reason.id });

  const list = async (query: string) => {
    const res = await s.request('GET', `/api/communications?${query}`);
    t.equal(res.statusCode, 200, query);
    return res.json() as { items: Item[]; nextCursor: string | null };
  };
  const period = `reasonId=${reason.id}&from=2026-03-01&to=2026-03-31`;
  const page = await list(period);
  t.same(page.items.map((i) => i.id), [meeting.id, call.id], 'the period\'s records of the reason, across clients, newest first');
  t.same(page.items.map((i) => i.client), [{ id: b.id, name: b.name }, { id: a.id, name: a.name }], 'each names its client');
  t.equal(page.nextCursor, null);

  const first = await list(`${period}&limit=1`);
  t.same(first.items.map((i) => i.id), [meeting.id]);
  t.ok(first.nextCursor, 'a cursor to the next page');
  const second = await list(`${period}&limit=1&cursor=${first.nextCursor}`);
  t.same(second.items.map((i) => i.id), [call.id]);
  t.equal(second.nextCursor, null, 'no page after the last');

  t.same((await list(`${period}&clientId=${a.id}`)).items.map((i) => i.id), [call.id], 'one client');
  t.same((await list(`${period}&kind=meeting`)).items.map((i) => i.id), [meeting.id], 'one kind');
  t.same((await list(`areaId=${area.id}`)).items.map((i) => i.id), [call.id], 'one area');
  t.same((await list(`reasonId=${reason.id}&to=2025-12-31`)).items.map((i) => i.id).length, 1, 'a date-only "to" covers its whole day');
  t.same((await list(`clientId=${(await createTestClient(db)).id}&reasonId=${reason.id}`)).items, [], 'a client without records');

  const badKind = await s.request('GET', '/api/communications?kind=fax');
  t.equal(badKind.statusCode, 400);
  t.equal(badKind.json().error.field, 'query.kind');
  t.equal((await s.request('GET', '/api/communications?cursor=nonsense')).statusCode, 400);
  t.equal((await ta.app.inject({ method: 'GET', url: '/api/communications' })).statusCode, 401);
  t.equal((await ta.app.inject({ method: 'GET', url: '/api/communications/export.xlsx' })).statusCode, 401);

  t.equal((await s.request('PATCH', '/api/me', { language: 'es' })).statusCode, 200);
  const res = await s.request('GET', `/api/communications/export.xlsx?${period}`);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /spreadsheetml/);
  t.match(res.headers['content-disposition'], /Comunicaciones de todos los clientes\.xlsx/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
  const sheet = wb.worksheets[0]!;
  const headers = (sheet.getRow(1).values as unknown[]).slice(1);
  t.same(headers.slice(0, 5), ['Fecha', 'Cliente', 'Tipo', 'Asunto', 'Iniciado por'], 'headers in Spanish, with the client');
  const col = (name: string) => headers.indexOf(name) + 1;
  const rows = [];
  for (let i = 2; i <= sheet.rowCount; i++) rows.push(sheet.getRow(i));
  t.equal(rows.length, 2, 'exactly the filtered records');
  t.same(rows.map((r) => r.getCell(col('Cliente')).value), [b.name, a.name]);
  t.same(rows.map((r) => r.getCell(col('Tipo')).value), ['Reunión', 'Llamada'], 'kinds in words, not codes');
  t.same(rows.map((r) => r.getCell(col('Iniciado por')).value), ['Cliente', 'Despacho']);
  t.same(rows.map((r) => r.getCell(col('Archivado')).value ?? ''), ['', ''], 'manual records are not filed mail');
  t.same(rows.map((r) => r.getCell(col('Motivo')).value), [reason.name, reason.name]);
  for (const code of ['call', 'meeting', 'firm', 'client', 'auto', 'manual']) {
    t.notOk(rows.some((r) => (r.values as unknown[]).includes(code)), `no internal code "${code}"`);
  }
});
