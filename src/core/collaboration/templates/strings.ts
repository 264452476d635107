// Reviewed wording of the client mail Dossier sends for file requests, in every client language.
// Plain strings only: user data is inserted by render.ts as data, never parsed as template syntax.
import type { Language } from '../../staff/user.entity.ts';

export type FileRequestStrings = {
  requestSubject: (subject: string) => string;
  reminderSubject: (subject: string) => string;
  ackSubject: (subject: string) => string;
  greeting: (name: string | null) => string;
  requestIntro: (firm: string) => string;
  itemsHeading: string;
  dueLine: (date: string) => string;
  attachedLine: (n: number) => string;
  howToReply: string;
  reminderIntro: string;
  ackBody: (n: number) => string;
  closing: string;
};

const en: FileRequestStrings = {
  requestSubject: (s) => `File request: ${s}`,
  reminderSubject: (s) => `Reminder: ${s}`,
  ackSubject: (s) => `Received: ${s}`,
  greeting: (name) => (name ? `Dear ${name},` : 'Hello,'),
  requestIntro: (firm) => `${firm} asks you for the following:`,
  itemsHeading: 'Please send us:',
  dueLine: (d) => `Please reply by ${d}.`,
  attachedLine: (n) => (n === 1 ? 'A document is attached for your reference.' : `${n} documents are attached for your reference.`),
  howToReply: 'To send the files, simply reply to this email and attach them. No login is needed.',
  reminderIntro: 'This is a friendly reminder of our request below. If you have already sent the files, please ignore this message.',
  ackBody: (n) => (n === 1 ? 'Thank you: we received your file.' : `Thank you: we received your ${n} files.`),
  closing: 'Kind regards,',
};

const es: FileRequestStrings = {
  requestSubject: (s) => `Solicitud de documentos: ${s}`,
  reminderSubject: (s) => `Recordatorio: ${s}`,
  ackSubject: (s) => `Recibido: ${s}`,
  greeting: (name) => (name ? `Estimado/a ${name}:` : 'Hola:'),
  requestIntro: (firm) => `${firm} le solicita lo siguiente:`,
  itemsHeading: 'Por favor, envíenos:',
  dueLine: (d) => `Le rogamos que responda antes del ${d}.`,
  attachedLine: (n) => (n === 1 ? 'Adjuntamos un documento como referencia.' : `Adjuntamos ${n} documentos como referencia.`),
  howToReply: 'Para enviar los archivos, basta con responder a este correo y adjuntarlos. No necesita iniciar sesión.',
  reminderIntro: 'Le recordamos nuestra solicitud, que encontrará más abajo. Si ya nos ha enviado los archivos, ignore este mensaje.',
  ackBody: (n) => (n === 1 ? 'Gracias: hemos recibido su archivo.' : `Gracias: hemos recibido sus ${n} archivos.`),
  closing: 'Un cordial saludo,',
};

const nl: FileRequestStrings = {
  requestSubject: (s) => `Verzoek om documenten: ${s}`,
  reminderSubject: (s) => `Herinnering: ${s}`,
  ackSubject: (s) => `Ontvangen: ${s}`,
  greeting: (name) => (name ? `Beste ${name},` : 'Hallo,'),
  requestIntro: (firm) => `${firm} vraagt u om het volgende:`,
  itemsHeading: 'Stuur ons alstublieft:',
  dueLine: (d) => `Graag uw reactie vóór ${d}.`,
  attachedLine: (n) => (n === 1 ? 'Ter referentie is een document bijgevoegd.' : `Ter referentie zijn ${n} documenten bijgevoegd.`),
  howToReply: 'Om de bestanden te sturen, beantwoordt u deze e-mail en voegt u ze als bijlage toe. Inloggen is niet nodig.',
  reminderIntro: 'Dit is een vriendelijke herinnering aan ons verzoek hieronder. Heeft u de bestanden al gestuurd, dan kunt u dit bericht negeren.',
  ackBody: (n) => (n === 1 ? 'Dank u wel: we hebben uw bestand ontvangen.' : `Dank u wel: we hebben uw ${n} bestanden ontvangen.`),
  closing: 'Met vriendelijke groet,',
};

export const FILE_REQUEST_STRINGS: Record<Language, FileRequestStrings> = { en, es, nl };
