// The mail-account job handlers: 'sync-account' (scheduler, IDLE wake-up, "sync now"), 'watch-account'
// (make sure some worker keeps IDLE on the account's INBOX) and 'check-imap' (answer the API's login
// check or folder listing). handlers.ts wires them in; the logic lives in the modules they call.
import type { Handlers } from '../core/platform/jobs.ts';
import type { WorkerDeps } from './worker-deps.ts';
import { answerImapCheck, getPendingImapCheck } from '../core/mail/imap-checks.ts';
import { imapSettingsFor } from './account-credentials.ts';
import { checkImapLogin } from './imap.ts';
import { checkSmtpLogin } from './send-message.ts';
import type { ImapCheckResult } from '../core/mail/imap-check.entity.ts';
import { syncAccount } from './sync-account.ts';
import { reconcileAccount } from './reconcile-account.ts';
import { accountJobKey } from '../core/mail/accounts.ts';
import { mailHostPolicy } from '../core/mail/mail-hosts.ts';

type AccountHandlers = Pick<Handlers, 'sync-account' | 'reconcile-account' | 'watch-account' | 'check-imap'>;

export function createAccountHandlers(deps: WorkerDeps): AccountHandlers {
  const runtime = () => {
    if (!deps.accounts) throw new Error('the sync engine is not started in this process (startWorker creates it)');
    return deps.accounts;
  };
  return {
    'sync-account': async ({ accountId, reason }, { signal }) => {
      const accounts = runtime();
      const result = await syncAccount(deps, { pool: accounts.pool }, accountId, { reason, signal });
      // Whichever worker syncs an account also makes sure someone watches its INBOX.
      if (result.outcome === 'done' || result.outcome === 'busy') accounts.watchers.ensure(accountId);
      // A folder's first pass (or a reset) just listed everything: check it against what was stored.
      if (result.outcome === 'done' && Object.values(result.folders).some((f) => f.plan === 'initial' || f.plan === 'reset')) {
        await deps.queue.enqueue('reconcile-account', { accountId, reason: 'after-sync' }, { key: accountJobKey(accountId), jobId: `reconcile-after-sync:${accountId}`, attempts: 1 });
      }
    },
    'reconcile-account': async ({ accountId }, { signal }) => {
      const result = await reconcileAccount(deps, { pool: runtime().pool }, accountId, { signal });
      if (result.outcome === 'done') {
        const found = Object.entries(result.folders).filter(([, f]) => f.missingBefore > 0);
        if (found.length) deps.log.warn({ accountId, folders: Object.fromEntries(found) }, 'reconciliation fetched missing mail');
      }
    },
    'watch-account': async ({ accountId }) => {
      runtime().watchers.ensure(accountId);
    },
    'check-imap': async ({ checkId }) => {
      const em = deps.db.em.fork();
      const pending = await getPendingImapCheck(em, deps.config.secretKey, checkId);
      if (!pending) return;
      const { check } = pending;
      const given = pending.settings;
      let result: ImapCheckResult = { ok: false, code: 'imap_unreachable', message: 'The account no longer exists' };
      try {
        const imap = given ? given.imap : check.account ? await imapSettingsFor(deps, em, check.account) : null;
        if (imap) result = await checkImapLogin(imap, check.kind === 'folders', mailHostPolicy(deps.config));
        else if (given) result = { ok: true };
      } catch (err) {
        // A token that could not be renewed (needs_reauth, provider down): answer instead of leaving the API waiting.
        result = { ok: false, code: 'imap_auth_failed', message: (err as Error).message };
      }
      // SMTP is tried only when IMAP worked (or was not asked about): one problem at a time.
      if (result.ok && given?.smtp) {
        const smtp = await checkSmtpLogin(given.smtp, undefined, mailHostPolicy(deps.config));
        if (!smtp.ok) result = smtp;
      }
      await answerImapCheck(em, checkId, result);
    },
  };
}
