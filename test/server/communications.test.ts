// The communication log through the full server on real PostgreSQL: the email-record edit rule,
// manual records, filters and search, keyset pages, the .xlsx export, deletion, reasons and areas.
import t from 'tap';
import ExcelJS from 'exceljs';
import { randomUUID } from 'node:crypto';
import { startTestApp, userSession, type Session } from '../support/app.ts';
import { uniq } from '../support/env.ts';
import { createTestAccount, createTestClient, createTestCommunication, createTestMessage } from '../support/factories.ts';

const ta = await startTestApp();
t.teardown(ta.close);
const { db, blobs } = ta;

const token = () => `tok${randomUUID().replace(/-/g, '').slice(0, 10)}`;
type Item = { id: string; subject: string };

async function makeTag(admin: Session, kind: 'reasons' | 'areas', name = uniq(kind)): Promise<{ id: string; name: string }> {
  const res = await admin.request('POST', `/api/${kind}`, { name });
  if (res.statusCode !== 201) throw new Error(`${kind}: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** A client with one filed email (its record returned) from a mailbox of `owner`. */
async function emailRecord(owner: Session, opts: Parameters<typeof createTestMessage>[2] = {}) {
  const box = await createTestAccount(db, owner.user, { visibility: 'private' });
  const client = await createTestClient(db);
  const message = await createTestMessage(db, blobs, { locations: [{ mailbox: box.inbox }], ...opts });
  const record = await createTestCommunication(db, message, client);
  return { client, message, record };
}

t.test('an email record: PATCH subject → 422 field_not_editable and nothing changes; PATCH reason/area → 200', async (t) => {
  const s = await userSession(ta);
  const admin = await userSession(ta, 'admin');
  const reason = await makeTag(admin, 'reasons');
  const area = await makeTag(admin, 'areas');
  const { message, record } = await emailRecord(s, { subject: 'Original subject' });
  for (const body of [{ subject: 'Changed' }, { notes: 'x' }, { occurredAt: new Date().toISOString() }, { reasonId: reason.id, initiatedBy: 'firm' }]) {
    const res = await s.request('PATCH', `/api/communications/${record.id}`, body);
    t.equal(res.statusCode, 422, `${Object.keys(body).join('+')} refused`);
    t.equal(res.json().error.code, 'field_not_editable');
    t.ok(['subject', 'notes', 'occurredAt', 'initiatedBy'].includes(res.json().error.field), 'the field is named');
  }
  const unchanged = (await s.request('GET', `/api/communications/${record.id}`)).json();
  t.equal(unchanged.subject, 'Original subject');
  t.equal(unchanged.reason, null, 'a refused patch changes nothing, not even its allowed part');
  const ok = await s.request('PATCH', `/api/communications/${record.id}`, { reasonId: reason.id, areaId: area.id });
  t.equal(ok.statusCode, 200);
  t.match(ok.json(), { kind: 'email', subject: 'Original subject', messageId: message.id, reason: { id: reason.id, name: reason.name }, area: { id: area.id, name: area.name } });
  const cleared = await s.request('PATCH', `/api/communications/${record.id}`, { areaId: null });
  t.equal(cleared.json().area, null, 'a tag can be cleared');
  const unknown = await s.request('PATCH', `/api/communications/${record.id}`, { reasonId: randomUUID() });
  t.equal(unknown.statusCode, 400);
  t.equal(unknown.json().error.field, 'reasonId');
  t.equal((await s.request('PATCH', `/api/communications/${randomUUID()}`, { reasonId: null })).statusCode, 404);
});

t.test('manual records: author and creation time come from the server; subject is required; kind email is not manual', async (t) => {
  const s = await userSession(ta, 'staff', 'Laura Staff');
  const client = await createTestClient(db);
  const url = `/api/clients/${client.id}/communications`;
  const missing = await s.request('POST', url, { kind: 'call' });
  t.equal(missing.statusCode, 400);
  t.equal(missing.json().error.field, 'subject', 'the error names subject');
  t.equal((await s.request('POST', url, { kind: 'call', subject: '   ' })).json().error.field, 'subject', 'blank is missing too');
  t.equal((await s.request('POST', url, { kind: 'email', subject: 'fake mail' })).json().error.field, 'kind');
  const forged = await s.request('POST', url, { kind: 'call', subject: 'x', author: 'someone', createdAt: '2000-01-01T00:00:00Z' });
  t.equal(forged.statusCode, 400, 'author and createdAt cannot be supplied');
  const before = Date.now();
  const res = await s.request('POST', url, { kind: 'visit', subject: 'Visita a la oficina', occurredAt: '2025-03-04T10:00:00.000Z', initiatedBy: 'client', notes: 'Trajo facturas' });
  t.equal(res.statusCode, 201);
  const r = res.json();
  t.match(r, { kind: 'visit', subject: 'Visita a la oficina', occurredAt: '2025-03-04T10:00:00.000Z', initiatedBy: 'client', notes: 'Trajo facturas', author: { id: s.user.id, name: 'Laura Staff' }, attachments: [], filedBy: null, clientId: client.id });
  t.notOk('messageId' in r, 'no message');
  t.ok(Date.parse(r.createdAt) >= before - 1000, 'created now');
  const defaults = (await s.request('POST', url, { kind: 'letter', subject: 'Carta' })).json();
  t.equal(defaults.initiatedBy, 'firm');
  t.ok(Math.abs(Date.parse(defaults.occurredAt) - Date.now()) < 60_000, 'occurredAt defaults to now');
  const patched = await s.request('PATCH', `/api/communications/${r.id}`, { subject: 'Visita', notes: 'editada', kind: 'meeting' });
  t.equal(patched.statusCode, 200, 'manual records are editable');
  t.match(patched.json(), { subject: 'Visita', notes: 'editada', kind: 'meeting' });
  t.equal((await s.request('PATCH', `/api/communications/${r.id}`, { kind: 'email' })).statusCode, 400);
  t.equal((await s.request('POST', `/api/clients/${randomUUID()}/communications`, { kind: 'call', subject: 'x' })).statusCode, 404);
  const audit = await db.em.fork().execute<{ action: string; actor_id: string }[]>('select action, actor_id from audit_event where entity_id = ? order by at', [r.id]);
  t.same(audit.map((a) => a.action), ['communication.create', 'communication.update']);
  t.equal(audit[0]!.actor_id, s.user.id);
});

t.test('log filters combine; search covers subject, notes, message body and attachment names, without accents', async (t) => {
  const s = await userSession(ta);
  const admin = await userSession(ta, 'admin');
  const reason = await makeTag(admin, 'reasons');
  const area = await makeTag(admin, 'areas');
  const box = await createTestAccount(db, s.user, { visibility: 'private' });
  const client = await createTestClient(db);
  const w = token();
  const mail = async (subject: string, text: string, sentAt: string, attachments: { filename: string }[] = []) => {
    const m = await createTestMessage(db, blobs, {
      subject, text, sentAt: new Date(sentAt), locations: [{ mailbox: box.inbox }],
      attachments: attachments.map((a) => ({ ...a, contentType: 'application/pdf', content: `%PDF ${randomUUID()}` })),
    });
    return createTestCommunication(db, m, client, { reasonId: reason.id });
  };
  const bySubject = await mail(`Declaración anual ${w}`, 'nada', '2025-01-10T09:00:00Z');
  const byBody = await mail('Consulta', `Le remito la declaración ${w}`, '2025-02-10T09:00:00Z');
  const byAttachment = await mail('Documentos', 'adjuntos', '2025-03-10T09:00:00Z', [{ filename: `declaracion_${w}.pdf` }]);
  const url = `/api/clients/${client.id}/communications`;
  const manual = async (body: Record<string, unknown>) => (await s.request('POST', url, body)).json() as Item;
  const byNotes = await manual({ kind: 'call', subject: 'Llamada', notes: `Preguntó por la DECLARACIÓN ${w}`, occurredAt: '2025-04-10T09:00:00Z', initiatedBy: 'client', reasonId: reason.id, areaId: area.id });
  const unrelated = await manual({ kind: 'meeting', subject: `Reunión ${w}`, occurredAt: '2025-05-10T09:00:00Z', areaId: area.id });

  const list = async (query: string) => ((await s.request('GET', `${url}?${query}`)).json().items as Item[]).map((i) => i.id);
  t.same(await list(''), [unrelated.id, byNotes.id, byAttachment.id, byBody.id, bySubject.id], 'newest first');
  t.same(await list(`q=${encodeURIComponent(`declaracion ${w}`)}`), [byNotes.id, byAttachment.id, byBody.id, bySubject.id], 'every place the words can be');
  t.same(await list(`q=declaracion&kind=email`), [byAttachment.id, byBody.id, bySubject.id], 'search + kind');
  t.same(await list(`q=declaracion&kind=email&from=2025-02-01&to=2025-02-28`), [byBody.id], 'search + kind + date range');
  t.same(await list('from=2025-03-10&to=2025-04-10'), [byNotes.id, byAttachment.id], 'date-only bounds include both whole days');
  t.same(await list('from=2025-03-10T09:00:01Z'), [unrelated.id, byNotes.id], 'date-time bounds are exact');
  t.same(await list(`reasonId=${reason.id}&areaId=${area.id}`), [byNotes.id], 'reason + area');
  t.same(await list(`initiatedBy=client&kind=call`), [byNotes.id], 'initiated by + kind');
  t.same(await list(`areaId=${area.id}&q=${encodeURIComponent('reunion')}`), [unrelated.id], 'area + search');

  // Keyset pages over the same filter: no duplicates, no gaps.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await s.request('GET', `${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...res.json().items.map((i: Item) => i.id));
    cursor = res.json().nextCursor;
  } while (cursor);
  t.same(seen, await list(''), 'pages add up to the list');

  const one = (await s.request('GET', `${url}?q=${w}&kind=email&from=2025-03-01`)).json().items[0];
  t.match(one, { id: byAttachment.id, kind: 'email', reason: { id: reason.id }, attachments: [{ filename: `declaracion_${w}.pdf`, contentType: 'application/pdf' }], from: { address: String } });
  t.equal((await s.request('GET', `${url}?from=yesterday`)).statusCode, 400);
  t.equal((await s.request('GET', `${url}?kind=fax`)).statusCode, 400);
  t.equal((await s.request('GET', `/api/clients/${randomUUID()}/communications`)).statusCode, 404);
});

t.test('the .xlsx export opens with exceljs and has exactly the filtered rows, every column', async (t) => {
  const s = await userSession(ta, 'staff', 'Exporter');
  const client = await createTestClient(db, `Cliente ${uniq('xlsx')}`);
  const url = `/api/clients/${client.id}/communications`;
  const made: Item[] = [];
  for (let i = 0; i < 5; i++) {
    made.push((await s.request('POST', url, { kind: i % 2 ? 'call' : 'visit', subject: i === 3 ? '=HYPERLINK("http://evil.example","x")' : `Registro ${i}`, notes: `nota ${i}\u0001`, occurredAt: `2025-06-0${i + 1}T08:00:00.000Z` })).json());
  }
  const res = await s.request('GET', `${url}.xlsx?kind=call`);
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  t.match(res.headers['content-disposition'], /^attachment; filename=.*\.xlsx/);
  t.equal(res.headers['content-length'], String(res.rawPayload.length));
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
  const sheet = wb.worksheets[0]!;
  const header = (sheet.getRow(1).values as unknown[]).slice(1);
  t.same(header, ['Date', 'Kind', 'Subject', 'Initiated by', 'Reason', 'Area', 'Author', 'Notes', 'From', 'Attachments', 'Filed', 'Message ID', 'Record ID', 'Created at', 'Updated at']);
  t.equal(sheet.actualRowCount, 3, 'header + the two calls');
  const col = (name: string) => header.indexOf(name) + 1;
  const rows = [2, 3].map((n) => sheet.getRow(n));
  t.same(rows.map((r) => r.getCell(col('Record ID')).value), [made[3]!.id, made[1]!.id], 'the filtered rows, newest first');
  t.same(rows.map((r) => r.getCell(col('Kind')).value), ['Call', 'Call'], 'kinds as words, not codes');
  t.same(rows.map((r) => r.getCell(col('Initiated by')).value), ['Firm', 'Firm']);
  t.equal(rows[0]!.getCell(col('Subject')).value, '=HYPERLINK("http://evil.example","x")', 'a formula-looking subject stays text');
  t.equal(rows[0]!.getCell(col('Subject')).type, ExcelJS.ValueType.String);
  t.equal(rows[0]!.getCell(col('Author')).value, 'Exporter');
  t.equal(rows[0]!.getCell(col('Notes')).value, 'nota 3', 'control characters removed, text kept');
  t.same((rows[0]!.getCell(col('Date')).value as Date).toISOString(), '2025-06-04T08:00:00.000Z', 'dates are real date cells');
  const all = await s.request('GET', `${url}.xlsx`);
  const wbAll = new ExcelJS.Workbook();
  await wbAll.xlsx.load(all.rawPayload as unknown as ArrayBuffer);
  t.equal(wbAll.worksheets[0]!.actualRowCount, 6, 'without filters: all five');
  t.equal((await s.request('GET', `/api/clients/${randomUUID()}/communications.xlsx`)).statusCode, 404);

  // In the user's language: headers, kinds, who initiated, the sheet and file name.
  t.equal((await s.request('PATCH', '/api/me', { language: 'es' })).statusCode, 200);
  const es = await s.request('GET', `${url}.xlsx?kind=call`);
  t.match(es.headers['content-disposition'], /comunicaciones\.xlsx/);
  const wbEs = new ExcelJS.Workbook();
  await wbEs.xlsx.load(es.rawPayload as unknown as ArrayBuffer);
  const sheetEs = wbEs.worksheets[0]!;
  t.equal(sheetEs.name, 'Comunicaciones');
  const headerEs = (sheetEs.getRow(1).values as unknown[]).slice(1);
  t.same(headerEs.slice(0, 4), ['Fecha', 'Tipo', 'Asunto', 'Iniciado por']);
  const rowEs = sheetEs.getRow(2);
  t.same([rowEs.getCell(2).value, rowEs.getCell(4).value], ['Llamada', 'Despacho'], 'no internal codes in the user\'s language either');
});

t.test('deleting a record removes it from the log only: the mail stays visible to its owner and in the mailbox', async (t) => {
  const s = await userSession(ta);
  const { client, message, record } = await emailRecord(s);
  t.equal((await s.request('DELETE', `/api/communications/${record.id}`)).statusCode, 204);
  t.same((await s.request('GET', `/api/clients/${client.id}/communications`)).json().items, [], 'gone from the log');
  const still = await s.request('GET', `/api/messages/${message.id}`);
  t.equal(still.statusCode, 200, 'the message is still in Dossier');
  t.same(still.json().clients, [], 'no longer filed');
  t.equal(still.json().folders.length, 1, 'still in its mailbox');
  t.equal((await s.request('DELETE', `/api/communications/${record.id}`)).statusCode, 404);
  const audit = await db.em.fork().execute<{ action: string; client_id: string; details: { messageId: string } }[]>('select action, client_id, details from audit_event where entity_id = ?', [record.id]);
  t.match(audit, [{ action: 'communication.delete', client_id: client.id, details: { messageId: message.id } }]);
});

t.test('reasons and areas: everyone reads, staff add and rename, admins turn off and delete; names are unique; deleting one untags records', async (t) => {
  const staff = await userSession(ta);
  const admin = await userSession(ta, 'admin');
  for (const kind of ['reasons', 'areas'] as const) {
    const name = uniq(kind);
    const byStaff = await staff.request('POST', `/api/${kind}`, { name: `${name}-staff` });
    t.equal(byStaff.statusCode, 201, `staff may create ${kind} (issue 15)`);
    const renamed = await staff.request('PATCH', `/api/${kind}/${byStaff.json().id}`, { name: `${name}-renamed` });
    t.equal(renamed.statusCode, 200, 'and rename them');
    t.equal(renamed.json().name, `${name}-renamed`);
    t.equal((await staff.request('POST', `/api/${kind}`, { name: `${name}-off`, active: false })).statusCode, 403, 'but not create one turned off');
    const created = await makeTag(admin, kind, name);
    t.equal((await admin.request('POST', `/api/${kind}`, { name: `  ${name} ` })).statusCode, 409, 'duplicate name');
    t.ok((await staff.request('GET', `/api/${kind}`)).json().items.some((i: { id: string }) => i.id === created.id), 'staff can list');
    t.equal((await staff.request('PATCH', `/api/${kind}/${created.id}`, { active: false })).statusCode, 403);
    const off = await admin.request('PATCH', `/api/${kind}/${created.id}`, { active: false });
    t.equal(off.json().active, false);
    t.notOk((await staff.request('GET', `/api/${kind}`)).json().items.some((i: { id: string }) => i.id === created.id), 'inactive ones are hidden by default');
    t.ok((await staff.request('GET', `/api/${kind}?includeInactive=true`)).json().items.some((i: { id: string }) => i.id === created.id));
    const client = await createTestClient(db);
    const record = (await staff.request('POST', `/api/clients/${client.id}/communications`, { kind: 'call', subject: 'x', [kind === 'reasons' ? 'reasonId' : 'areaId']: created.id })).json();
    t.equal((await staff.request('DELETE', `/api/${kind}/${created.id}`)).statusCode, 403);
    t.equal((await admin.request('DELETE', `/api/${kind}/${created.id}`)).statusCode, 204);
    const after = (await staff.request('GET', `/api/communications/${record.id}`)).json();
    t.equal(after[kind === 'reasons' ? 'reason' : 'area'], null, 'the record stays, untagged');
    t.equal((await admin.request('DELETE', `/api/${kind}/${created.id}`)).statusCode, 404);
  }
});
