// The filtered communication log of one client as a real .xlsx workbook (one row per record, every
// column). The only exceljs import. Must not decide filters or visibility: it renders what
// communications.ts lists.
import ExcelJS from 'exceljs';
import { PassThrough } from 'node:stream';
import type { Em } from '../platform/db.ts';
import { iterateCommunications, iterateFirmCommunications, type CommunicationFilters, type CommunicationView, type FirmCommunicationFilters } from './communications.ts';
import type { Viewer } from '../mail/visibility.ts';
import { RuleError } from '../platform/errors.ts';
import { Client } from '../crm/client.entity.ts';
import { NotFoundError } from '../platform/errors.ts';
import type { Language } from '../staff/user.entity.ts';
import { EXPORT_LABELS } from './communications-export-labels.ts';

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const EXPORT_COLUMNS = [
  { header: 'Date', key: 'occurredAt', width: 20 },
  { header: 'Kind', key: 'kind', width: 10 },
  { header: 'Subject', key: 'subject', width: 50 },
  { header: 'Initiated by', key: 'initiatedBy', width: 12 },
  { header: 'Reason', key: 'reason', width: 20 },
  { header: 'Area', key: 'area', width: 20 },
  { header: 'Author', key: 'author', width: 20 },
  { header: 'Notes', key: 'notes', width: 50 },
  { header: 'From', key: 'from', width: 30 },
  { header: 'Attachments', key: 'attachments', width: 40 },
  { header: 'Filed', key: 'filedBy', width: 10 },
  { header: 'Message ID', key: 'messageId', width: 38 },
  { header: 'Record ID', key: 'id', width: 38 },
  { header: 'Created at', key: 'createdAt', width: 20 },
  { header: 'Updated at', key: 'updatedAt', width: 20 },
] as const;

// XML 1.0 cannot carry most C0 controls; one in a note would make the whole file unreadable.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/gu;
const cell = (s: string) => s.replace(XML_INVALID, '');

/**
 * The workbook as bytes, its headers and coded values (kind, initiated by, filed) in `language`. Strings
 * are written as string cells, never formulas, so a subject such as "=HYPERLINK(...)" stays text (no
 * formula injection).
 */
export async function exportCommunicationsXlsx(em: Em, clientId: string, filters: CommunicationFilters, language: Language = 'en'): Promise<{ filename: string; content: Buffer; rows: number }> {
  const client = await em.findOne(Client, { id: clientId });
  if (!client) throw new NotFoundError('Client');
  const { content, rows } = await writeWorkbook(iterateCommunications(em, clientId, filters), language, false);
  // eslint-disable-next-line no-control-regex -- control characters are what we strip
  const safeName = client.name.replace(/[\\/:*?"<>|\u0000-\u001f]+/gu, ' ').trim() || 'client';
  return { filename: `${safeName} - ${EXPORT_LABELS[language].filename}.xlsx`, content, rows };
}

/** Most records one firm-wide export writes: the workbook is built in memory (about 1 KB a row). */
export const FIRM_EXPORT_MAX_ROWS = 100_000;

/** The firm-wide log (every client the viewer may see, filtered) as .xlsx, with a Client column. */
export async function exportFirmCommunicationsXlsx(em: Em, viewer: Viewer, filters: FirmCommunicationFilters, language: Language = 'en'): Promise<{ filename: string; content: Buffer; rows: number }> {
  const { content, rows } = await writeWorkbook(iterateFirmCommunications(em, viewer, filters), language, true);
  return { filename: `${EXPORT_LABELS[language].firmFilename}.xlsx`, content, rows };
}

async function writeWorkbook(records: AsyncIterable<CommunicationView>, language: Language, withClient: boolean): Promise<{ content: Buffer; rows: number }> {
  const labels = EXPORT_LABELS[language];
  // The streaming writer: each row is serialised as it is added (10,000 rows took 3–4x longer through the
  // in-memory workbook, which keeps every cell as an object until the end). Inline strings, no shared table.
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  workbook.creator = 'Dossier';
  workbook.created = new Date();
  const sheet = workbook.addWorksheet(labels.sheet, { views: [{ state: 'frozen', ySplit: 1 }] });
  const columns = withClient ? [EXPORT_COLUMNS[0], { header: 'Client', key: 'client', width: 30 } as const, ...EXPORT_COLUMNS.slice(1)] : EXPORT_COLUMNS;
  const dated = new Set<string>(['occurredAt', 'createdAt', 'updatedAt']);
  sheet.columns = columns.map((c) => ({ ...c, header: labels.columns[c.key], ...(dated.has(c.key) ? { style: { numFmt: 'yyyy-mm-dd hh:mm' } } : {}) }));
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).commit();
  let rows = 0;
  for await (const r of records) {
    if (withClient && rows >= FIRM_EXPORT_MAX_ROWS) {
      throw new RuleError('export_too_large', `More than ${FIRM_EXPORT_MAX_ROWS} records match: narrow the filters (dates, client, reason)`);
    }
    sheet.addRow({
      client: cell(r.client.name),
      occurredAt: new Date(r.occurredAt),
      kind: labels.kind[r.kind],
      subject: cell(r.subject),
      // Inbound mail stored as the firm's was written by a third party: name who wrote it, as the log does.
      initiatedBy: r.kind === 'email' && r.initiatedBy === 'firm' && r.direction === 'inbound' && r.from ? cell(r.from.name || r.from.address) : labels.initiatedBy[r.initiatedBy],
      reason: cell(r.reason?.name ?? ''),
      area: cell(r.area?.name ?? ''),
      author: cell(r.author?.name ?? ''),
      notes: cell(r.notes),
      from: r.from ? cell(r.from.name ? `${r.from.name} <${r.from.address}>` : r.from.address) : '',
      attachments: cell(r.attachments.map((a) => a.filename).join(', ')),
      filedBy: r.filedBy ? labels.filedBy[r.filedBy] : '',
      messageId: r.messageId ?? '',
      id: r.id,
      createdAt: new Date(r.createdAt),
      updatedAt: new Date(r.updatedAt),
    }).commit();
    rows++;
  }
  sheet.commit();
  await workbook.commit();
  return { content: Buffer.concat(chunks), rows };
}
