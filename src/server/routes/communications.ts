// The communication log of a client: list, export to .xlsx, manual records, the email-record edit
// rule and deletion. Thin: the rules live in core/log/communications.ts.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import {
  createManualRecord, deleteCommunication, getCommunication, listCommunications, listFirmCommunications, updateCommunication,
} from '../../core/log/communications.ts';
import { exportCommunicationsXlsx, exportFirmCommunicationsXlsx, XLSX_CONTENT_TYPE } from '../../core/log/communications-export.ts';
import { InvalidInputError } from '../../core/platform/errors.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { sendFile } from '../file-response.ts';
import { IdParams } from '../schemas.ts';
import {
  CommunicationCreate, CommunicationExportQuery, CommunicationListQuery, CommunicationPage, CommunicationPatch, CommunicationView,
  FirmCommunicationExportQuery, FirmCommunicationQuery,
} from '../schemas/communications.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A date-only bound covers its whole UTC day: "from" is its first instant, "to" the next midnight (exclusive). */
function toBound(value: string | undefined, field: 'from' | 'to'): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError('invalid_input', `${field} is not a valid date`, `query.${field}`);
  if (field === 'to' && DATE_ONLY.test(value)) date.setUTCDate(date.getUTCDate() + 1);
  return date;
}

function filtersOf<Q extends { from?: string; to?: string }>(q: Q): Omit<Q, 'from' | 'to'> & { from?: Date; to?: Date } {
  const { from, to, ...rest } = q;
  return { ...rest, from: toBound(from, 'from'), to: toBound(to, 'to') };
}

const optDate = (s: string | undefined) => (s === undefined ? undefined : new Date(s));

export async function communicationRoutes(app: FastifyInstance) {
  const tags = ['communications'];

  // The firm-wide log: every client the caller may see (issue 15).
  app.get<{ Querystring: FirmCommunicationQuery }>('/communications', {
    schema: { tags, querystring: FirmCommunicationQuery, response: { 200: CommunicationPage } },
  }, async (req) => {
    const { limit = 50, cursor, ...filters } = req.query;
    return listFirmCommunications(req.em, currentUser(req), filtersOf(filters), { limit, cursor });
  });

  app.get<{ Querystring: FirmCommunicationExportQuery }>('/communications/export.xlsx', {
    schema: { tags, querystring: FirmCommunicationExportQuery, produces: [XLSX_CONTENT_TYPE] },
  }, async (req, reply) => {
    const file = await exportFirmCommunicationsXlsx(req.em, currentUser(req), filtersOf(req.query), currentUser(req).language);
    return sendFile(reply, { stream: file.content, size: file.content.length, filename: file.filename, contentType: XLSX_CONTENT_TYPE });
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof CommunicationListQuery> }>('/clients/:id/communications', {
    schema: { tags, params: IdParams, querystring: CommunicationListQuery, response: { 200: CommunicationPage } },
  }, async (req) => {
    const { limit = 50, cursor, ...filters } = req.query;
    return listCommunications(req.em, req.params.id, filtersOf(filters), { limit, cursor });
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof CommunicationExportQuery> }>('/clients/:id/communications.xlsx', {
    schema: { tags, params: IdParams, querystring: CommunicationExportQuery, produces: [XLSX_CONTENT_TYPE] },
  }, async (req, reply) => {
    const file = await exportCommunicationsXlsx(req.em, req.params.id, filtersOf(req.query), currentUser(req).language);
    return sendFile(reply, { stream: file.content, size: file.content.length, filename: file.filename, contentType: XLSX_CONTENT_TYPE });
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CommunicationCreate> }>('/clients/:id/communications', {
    schema: { tags, params: IdParams, body: CommunicationCreate, response: { 201: CommunicationView } },
  }, async (req, reply) => {
    const { occurredAt, ...rest } = req.body;
    const record = await createManualRecord(req.em, currentUser(req), req.params.id, { ...rest, occurredAt: optDate(occurredAt) });
    await req.em.flush();
    return reply.status(STATUS.created).send(await getCommunication(req.em, record.id));
  });

  app.get<{ Params: Static<typeof IdParams> }>('/communications/:id', {
    schema: { tags, params: IdParams, response: { 200: CommunicationView } },
  }, async (req) => getCommunication(req.em, req.params.id));

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof CommunicationPatch> }>('/communications/:id', {
    schema: { tags, params: IdParams, body: CommunicationPatch, response: { 200: CommunicationView } },
  }, async (req) => {
    const { occurredAt, ...rest } = req.body;
    const record = await updateCommunication(req.em, currentUser(req), req.params.id, { ...rest, occurredAt: optDate(occurredAt) });
    await req.em.flush();
    return getCommunication(req.em, record.id);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/communications/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteCommunication(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });
}
