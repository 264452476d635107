// The worker's job handlers: one function per job name of core/platform/jobs.ts (a missing one is a type error).
import type { Handlers } from '../core/platform/jobs.ts';
import type { WorkerDeps } from './worker-deps.ts';
import { sweepOrphanBlobs } from '../core/blobs/blob-sweep.ts';
import { runFileAddressJob } from '../core/log/retro-filing.ts';
import { recordAudit } from '../core/staff/audit.ts';
import { runFileRequestScan, runReminderJob } from '../core/collaboration/file-request-reminders.ts';
import { runTaskDueJob, runTaskDueScan } from '../core/collaboration/task-due.ts';
import { runClientMailDigest, runClientMailDigestScan } from '../core/collaboration/client-mail-notices.ts';
import { createAccountHandlers } from './account-jobs.ts';
import { runSyncAlertScan } from '../core/ops/sync-alerts.ts';
import { resumeOutbox, sendOutbox } from './send-outbox.ts';
import { announceFilingApprovals } from '../core/collaboration/filing-approvals.ts';
import { enqueueSend } from '../core/outbox/outbox.ts';

export function createHandlers(deps: WorkerDeps): Handlers {
  return {
    'ping': async (payload) => {
      // Recorded so the sender (often another process) can see the round trip completed.
      const em = deps.db.em.fork();
      recordAudit(em, { actorId: null, action: 'system.ping', entityType: 'system', details: { text: payload.text, latencyMs: Date.now() - payload.at, worker: deps.workerId } });
      await em.flush();
      deps.onPing?.(payload);
    },
    'sweep-blobs': async ({ graceMs }) => {
      const removed = await sweepOrphanBlobs(deps.db.em.fork(), deps.blobs, graceMs);
      if (removed) deps.log.info({ removed }, 'removed orphan blobs');
    },
    ...createAccountHandlers(deps),
    'send-outbox': ({ outboxId }, ctx) => sendOutbox(deps, outboxId, ctx),
    'resume-outbox': async ({ staleMs }) => {
      const resumed = await resumeOutbox(deps, staleMs);
      if (resumed) deps.log.info({ resumed }, 'outbox: re-enqueued rows whose send job was lost');
    },
    'file-request-reminder': async ({ requestId }) => {
      const outcome = await runReminderJob(deps.db, deps.queue, requestId);
      if (outcome.kind === 'sent') deps.log.info({ requestId, mails: outcome.outboxIds.length }, 'file request: reminder queued');
    },
    'file-request-scan': async () => {
      const result = await runFileRequestScan(deps.db, deps.queue);
      if (result.reminders || result.overdue || result.stranded) deps.log.info(result, 'file request scan');
    },
    'task-due': async ({ taskId }) => {
      if (await runTaskDueJob(deps.db, deps.queue, taskId, { publicUrl: deps.config.publicUrl })) deps.log.info({ taskId }, 'task due: assignee notified');
    },
    'task-due-scan': async () => {
      const notified = await runTaskDueScan(deps.db, deps.queue, { publicUrl: deps.config.publicUrl });
      if (notified) deps.log.info({ notified }, 'task due scan: notified tasks whose job was lost');
    },
    'client-mail-digest': async ({ userId }) => {
      const outcome = await runClientMailDigest(deps.db, deps.queue, userId, { publicUrl: deps.config.publicUrl });
      if (outcome.kind === 'sent') deps.log.info({ userId, notices: outcome.notices }, 'client mail digest queued');
    },
    'client-mail-digest-scan': async () => {
      const sent = await runClientMailDigestScan(deps.db, deps.queue, { publicUrl: deps.config.publicUrl });
      if (sent) deps.log.info({ sent }, 'client mail digests queued');
    },
    'sync-alert-scan': async () => {
      const r = await runSyncAlertScan(deps.db, deps.queue, { syncIntervalSeconds: deps.config.syncIntervalSeconds, publicUrl: deps.config.publicUrl });
      if (r.opened.length || r.closed.length) deps.log.warn(r, 'sync incidents changed');
    },
    'file-address': async (payload) => {
      const result = await runFileAddressJob(deps.db, payload, { blobs: deps.blobs, maxAttachmentBytes: deps.config.maxAttachmentBytes });
      if (result.records) deps.log.info({ address: payload.address, ...result }, 'filed existing mail for an address');
      // Owners of private mail the job held back are asked (issue 12); their email copies go out after the commit.
      const outboxIds = await deps.db.em.fork().transactional((em) => announceFilingApprovals(em, { publicUrl: deps.config.publicUrl }));
      for (const id of outboxIds) await enqueueSend(deps.queue, id);
    },
  };
}
