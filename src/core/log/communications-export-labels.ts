// The words of the communication log's .xlsx export in each user language: column headers and the
// values that are codes in the database (kind, who initiated, how a mail was filed). The web app has
// its own copies of the same words (src/web/i18n); keep them alike.
import type { Language } from '../staff/user.entity.ts';
import type { CommunicationKind, Initiator } from './communication.entity.ts';

export type ExportColumnKey =
  | 'occurredAt' | 'kind' | 'subject' | 'initiatedBy' | 'reason' | 'area' | 'author' | 'notes' | 'from'
  | 'attachments' | 'filedBy' | 'messageId' | 'id' | 'createdAt' | 'updatedAt' | 'client';

type ExportLabels = {
  sheet: string;
  filename: string;
  /** The firm-wide log's file name (all clients). */
  firmFilename: string;
  columns: Record<ExportColumnKey, string>;
  kind: Record<CommunicationKind, string>;
  initiatedBy: Record<Initiator, string>;
  filedBy: Record<'auto' | 'manual', string>;
};

export const EXPORT_LABELS: Record<Language, ExportLabels> = {
  en: {
    sheet: 'Communications',
    filename: 'communications',
    firmFilename: 'Communications of all clients',
    columns: {
      occurredAt: 'Date', kind: 'Kind', subject: 'Subject', initiatedBy: 'Initiated by', reason: 'Reason', area: 'Area',
      author: 'Author', notes: 'Notes', from: 'From', attachments: 'Attachments', filedBy: 'Filed', messageId: 'Message ID',
      id: 'Record ID', createdAt: 'Created at', updatedAt: 'Updated at', client: 'Client',
    },
    kind: { email: 'Email', call: 'Call', visit: 'Visit', meeting: 'Meeting', letter: 'Letter', other: 'Other' },
    initiatedBy: { client: 'Client', firm: 'Firm' },
    filedBy: { auto: 'Automatically', manual: 'By hand' },
  },
  es: {
    sheet: 'Comunicaciones',
    filename: 'comunicaciones',
    firmFilename: 'Comunicaciones de todos los clientes',
    columns: {
      occurredAt: 'Fecha', kind: 'Tipo', subject: 'Asunto', initiatedBy: 'Iniciado por', reason: 'Motivo', area: 'Área',
      author: 'Autor', notes: 'Notas', from: 'De', attachments: 'Adjuntos', filedBy: 'Archivado', messageId: 'ID del mensaje',
      id: 'ID del registro', createdAt: 'Creado', updatedAt: 'Modificado', client: 'Cliente',
    },
    kind: { email: 'Correo', call: 'Llamada', visit: 'Visita', meeting: 'Reunión', letter: 'Carta', other: 'Otro' },
    initiatedBy: { client: 'Cliente', firm: 'Despacho' },
    filedBy: { auto: 'Automáticamente', manual: 'A mano' },
  },
  nl: {
    sheet: 'Communicatie',
    filename: 'communicatie',
    firmFilename: 'Communicatie van alle klanten',
    columns: {
      occurredAt: 'Datum', kind: 'Soort', subject: 'Onderwerp', initiatedBy: 'Geïnitieerd door', reason: 'Reden', area: 'Gebied',
      author: 'Auteur', notes: 'Notities', from: 'Van', attachments: 'Bijlagen', filedBy: 'Gearchiveerd', messageId: 'Bericht-ID',
      id: 'Record-ID', createdAt: 'Aangemaakt', updatedAt: 'Gewijzigd', client: 'Klant',
    },
    kind: { email: 'E-mail', call: 'Telefoongesprek', visit: 'Bezoek', meeting: 'Vergadering', letter: 'Brief', other: 'Overig' },
    initiatedBy: { client: 'Klant', firm: 'Kantoor' },
    filedBy: { auto: 'Automatisch', manual: 'Handmatig' },
  },
};
