// Reviewed wording of discussion and share mail and of the public share-link pages, in every client language.
// Plain strings only: user data is inserted by collaboration-mail.ts as data, never parsed as template syntax.
import type { Language } from '../../staff/user.entity.ts';

export type CollaborationStrings = {
  greeting: (name: string | null) => string;
  discussionIntro: (firm: string) => string;
  discussionHowToReply: string;
  commentIntro: (author: string) => string;
  shareSubject: (firm: string) => string;
  shareIntro: (firm: string, n: number) => string;
  shareExpiry: (date: string) => string;
  sharePersonal: string;
  closing: string;
  pageTitle: string;
  expiredTitle: string;
  expiredBody: string;
  revokedTitle: string;
  revokedBody: string;
  invalidTitle: string;
  invalidBody: string;
};

const en: CollaborationStrings = {
  greeting: (name) => (name ? `Dear ${name},` : 'Hello,'),
  discussionIntro: (firm) => `${firm} started a discussion with you:`,
  discussionHowToReply: 'To take part, simply reply to this email. No login is needed.',
  commentIntro: (author) => `${author} wrote:`,
  shareSubject: (firm) => `${firm} shared documents with you`,
  shareIntro: (firm, n) => (n === 1 ? `${firm} shared a document with you. Download it with the link below:` : `${firm} shared ${n} documents with you. Download them with the links below:`),
  shareExpiry: (date) => `The links work until ${date} (UTC).`,
  sharePersonal: 'These links are for you personally: please do not forward this email.',
  closing: 'Kind regards,',
  pageTitle: 'Document download',
  expiredTitle: 'This link has expired',
  expiredBody: 'The download link is no longer valid. Please ask the sender for a new link.',
  revokedTitle: 'This link was withdrawn',
  revokedBody: 'The sender withdrew this download link. Please contact them if you still need the document.',
  invalidTitle: 'This link is not valid',
  invalidBody: 'The download link is incomplete or wrong. Please copy the whole link from the email, or ask the sender for a new one.',
};

const es: CollaborationStrings = {
  greeting: (name) => (name ? `Estimado/a ${name}:` : 'Hola:'),
  discussionIntro: (firm) => `${firm} ha iniciado una conversación con usted:`,
  discussionHowToReply: 'Para participar, basta con responder a este correo. No necesita iniciar sesión.',
  commentIntro: (author) => `${author} escribió:`,
  shareSubject: (firm) => `${firm} ha compartido documentos con usted`,
  shareIntro: (firm, n) => (n === 1 ? `${firm} ha compartido un documento con usted. Descárguelo con el enlace siguiente:` : `${firm} ha compartido ${n} documentos con usted. Descárguelos con los enlaces siguientes:`),
  shareExpiry: (date) => `Los enlaces funcionan hasta el ${date} (UTC).`,
  sharePersonal: 'Estos enlaces son personales: por favor, no reenvíe este correo.',
  closing: 'Un cordial saludo,',
  pageTitle: 'Descarga de documento',
  expiredTitle: 'Este enlace ha caducado',
  expiredBody: 'El enlace de descarga ya no es válido. Pida un enlace nuevo al remitente.',
  revokedTitle: 'Este enlace ha sido retirado',
  revokedBody: 'El remitente ha retirado este enlace de descarga. Póngase en contacto con él si todavía necesita el documento.',
  invalidTitle: 'Este enlace no es válido',
  invalidBody: 'El enlace de descarga está incompleto o es incorrecto. Copie el enlace completo del correo o pida uno nuevo al remitente.',
};

const nl: CollaborationStrings = {
  greeting: (name) => (name ? `Beste ${name},` : 'Hallo,'),
  discussionIntro: (firm) => `${firm} is een gesprek met u begonnen:`,
  discussionHowToReply: 'Om deel te nemen, beantwoordt u gewoon deze e-mail. Inloggen is niet nodig.',
  commentIntro: (author) => `${author} schreef:`,
  shareSubject: (firm) => `${firm} heeft documenten met u gedeeld`,
  shareIntro: (firm, n) => (n === 1 ? `${firm} heeft een document met u gedeeld. Download het via de link hieronder:` : `${firm} heeft ${n} documenten met u gedeeld. Download ze via de links hieronder:`),
  shareExpiry: (date) => `De links werken tot ${date} (UTC).`,
  sharePersonal: 'Deze links zijn persoonlijk: stuur deze e-mail alstublieft niet door.',
  closing: 'Met vriendelijke groet,',
  pageTitle: 'Document downloaden',
  expiredTitle: 'Deze link is verlopen',
  expiredBody: 'De downloadlink is niet meer geldig. Vraag de afzender om een nieuwe link.',
  revokedTitle: 'Deze link is ingetrokken',
  revokedBody: 'De afzender heeft deze downloadlink ingetrokken. Neem contact op als u het document nog nodig heeft.',
  invalidTitle: 'Deze link is niet geldig',
  invalidBody: 'De downloadlink is onvolledig of onjuist. Kopieer de volledige link uit de e-mail of vraag de afzender om een nieuwe.',
};

export const COLLABORATION_STRINGS: Record<Language, CollaborationStrings> = { en, es, nl };
