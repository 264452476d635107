// The entity registry handed to MikroORM. Add new entities here.
import { AuditEvent } from './audit-event.entity.ts';
import { Client, ClientContact, Contact, ContactEmail } from './client.entity.ts';
import { Area, Communication, FilingExclusion, Reason } from './communication.entity.ts';
import { Discussion, DiscussionComment, DiscussionParticipant } from './discussion.entity.ts';
import { Document } from './document.entity.ts';
import { FileRequest, FileRequestDocument, FileRequestEvent, FileRequestItem, FileRequestRecipient } from './file-request.entity.ts';
import { MailAccount, Mailbox } from './mail-account.entity.ts';
import { ImapCheck } from './imap-check.entity.ts';
import { FirmSetting, Notification } from './notification.entity.ts';
import { Attachment, Blob, Message, MessageAddress, MessageLocation } from './message.entity.ts';
import { Outbox } from './outbox.entity.ts';
import { Share, ShareDownload, ShareLink, ShareRecipient } from './share.entity.ts';
import { ApiToken, Session, User } from './user.entity.ts';

export const entities = [
  User, Session, ApiToken, AuditEvent,
  MailAccount, Mailbox, ImapCheck, Message, MessageLocation, MessageAddress, Attachment, Blob,
  Client, Contact, ClientContact, ContactEmail, Reason, Area, Communication, FilingExclusion, Document,
  Outbox,
  FileRequest, FileRequestRecipient, FileRequestItem, FileRequestDocument, FileRequestEvent, Notification, FirmSetting,
  Discussion, DiscussionParticipant, DiscussionComment, Share, ShareRecipient, ShareLink, ShareDownload,
];
