// CSV import of clients and contacts: the file as the body (text/csv) or as a multipart "file" field.
// ?dryRun=true runs the whole import and rolls it back. Mail of new addresses is filed by jobs afterwards.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { importClients } from '../../core/crm/client-import.ts';
import { enqueueAddressFiling } from '../../core/log/retro-filing.ts';
import { InvalidInputError } from '../../core/platform/errors.ts';
import { currentUser } from '../auth.ts';
import { ImportQuery, ImportResult } from '../schemas/crm.ts';

const MAX_CSV_BYTES = 10 * 1024 * 1024;

async function readCsvBody(req: FastifyRequest): Promise<string> {
  if (req.isMultipart()) {
    const file = await req.file({ limits: { fileSize: MAX_CSV_BYTES } });
    if (!file) throw new InvalidInputError('required', 'Attach the CSV as the "file" field', 'file');
    const buf = await file.toBuffer();
    return buf.toString('utf8');
  }
  if (typeof req.body !== 'string' || !req.body.length) throw new InvalidInputError('required', 'Send the CSV as a text/csv body or a multipart "file" field', 'file');
  return req.body;
}

export async function importRoutes(app: FastifyInstance) {
  // Encapsulated to this plugin: only the import accepts CSV bodies.
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: MAX_CSV_BYTES }, (_req, body, done) => done(null, body));

  app.post<{ Querystring: ImportQuery }>('/import/clients', {
    schema: { tags: ['clients'], querystring: ImportQuery, consumes: ['text/csv', 'multipart/form-data'], response: { 200: ImportResult } },
  }, async (req) => {
    const user = currentUser(req);
    const csv = await readCsvBody(req);
    const result = await importClients(req.em, user, csv, { dryRun: req.query.dryRun ?? false });
    await enqueueAddressFiling(app.deps.queue, result.addressesToFile, user.id);
    return result;
  });
}
