// Every route plugin, registered under /api by app.ts. Add new route files here.
import { authRoutes } from './auth.ts';
import { clientRoutes } from './clients.ts';
import { contactRoutes } from './contacts.ts';
import { discussionRoutes } from './discussions.ts';
import { documentRoutes } from './documents.ts';
import { fileRequestRoutes } from './file-requests.ts';
import { filingRoutes } from './filing.ts';
import { filingApprovalRoutes } from './filing-approvals.ts';
import { importRoutes } from './import.ts';
import { communicationRoutes } from './communications.ts';
import { healthRoutes } from './health.ts';
import { mailAccountRoutes } from './mail-accounts.ts';
import { messageRoutes } from './messages.ts';
import { notificationBellRoutes } from './notification-bell.ts';
import { oauthRoutes } from './oauth.ts';
import { outboxRoutes } from './outbox.ts';
import { reasonAreaRoutes } from './reasons-areas.ts';
import { shareRoutes } from './shares.ts';
import { syncHealthRoutes } from './sync-health.ts';
import { systemRoutes } from './system.ts';
import { taskRoutes } from './tasks.ts';
import { eventRoutes } from './events.ts';
import { tokenRoutes } from './tokens.ts';
import { twoFactorRoutes } from './two-factor.ts';
import { userRoutes } from './users.ts';

export const routes = [healthRoutes, systemRoutes, authRoutes, twoFactorRoutes, userRoutes, tokenRoutes, mailAccountRoutes, oauthRoutes, messageRoutes, outboxRoutes, communicationRoutes, reasonAreaRoutes, clientRoutes, contactRoutes, filingRoutes, filingApprovalRoutes, documentRoutes, importRoutes, fileRequestRoutes, discussionRoutes, shareRoutes, notificationBellRoutes, taskRoutes, syncHealthRoutes, eventRoutes];
