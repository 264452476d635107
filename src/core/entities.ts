// The entity registry handed to MikroORM. Add new entities here.
import { AuditEvent } from './staff/audit-event.entity.ts';
import { Client, ClientContact, ClientTeam, Contact, ContactEmail } from './crm/client.entity.ts';
import { Area, Communication, FilingExclusion, Reason } from './log/communication.entity.ts';
import { FilingConsent, PrivateMessage } from './log/filing-consent.entity.ts';
import { CalendarFeed, Task } from './log/task.entity.ts';
import { Discussion, DiscussionComment, DiscussionParticipant } from './collaboration/discussion.entity.ts';
import { Document, DocumentCategory } from './documents/document.entity.ts';
import { FileRequest, FileRequestDocument, FileRequestEvent, FileRequestItem, FileRequestRecipient } from './collaboration/file-request.entity.ts';
import { MailAccount, Mailbox } from './mail/mail-account.entity.ts';
import { ImapCheck } from './mail/imap-check.entity.ts';
import { OAuthFlow } from './mail/oauth-flow.entity.ts';
import { MessageRead } from './mail/message-read.entity.ts';
import { FirmSetting, Notification } from './staff/notification.entity.ts';
import { Attachment, Blob, Message, MessageAddress, MessageLocation } from './mail/message.entity.ts';
import { Outbox } from './outbox/outbox.entity.ts';
import { MessageAwaitingClient } from './mail/awaiting-client.entity.ts';
import { Share, ShareDownload, ShareLink, ShareRecipient } from './collaboration/share.entity.ts';
import { ApiToken, RecoveryCode, Session, User } from './staff/user.entity.ts';

export const entities = [
  User, Session, ApiToken, RecoveryCode, AuditEvent,
  MailAccount, Mailbox, ImapCheck, OAuthFlow, Message, MessageLocation, MessageAddress, Attachment, Blob, MessageRead,
  Client, ClientTeam, Contact, ClientContact, ContactEmail, Reason, Area, Communication, FilingExclusion, FilingConsent, PrivateMessage, Document, DocumentCategory,
  Outbox, MessageAwaitingClient,
  FileRequest, FileRequestRecipient, FileRequestItem, FileRequestDocument, FileRequestEvent, Notification, FirmSetting,
  Discussion, DiscussionParticipant, DiscussionComment, Share, ShareRecipient, ShareLink, ShareDownload,
  Task, CalendarFeed,
];
