// Settings → Filing approvals (issue 12): the caller's pending requests to file mail from their private
// mailboxes to a client (Approve / Decline; the bell links here), and the ones they answered, which they can
// change. Nothing here is shown to anyone but the mailbox's owner.
import { useEffect, useRef } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { FilingApproval, FilingApprovalList } from '../../server/schemas/filing-approvals.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';

type Item = Static<typeof FilingApproval>;

export function SettingsFilingApprovals() {
  const { t } = useI18n();
  const { path } = useLocation();
  const root = useRef<HTMLElement>(null);
  const pending = useLoad((signal) => getJson<Static<typeof FilingApprovalList>>('/filing-approvals', undefined, signal), []);
  const decided = useLoad((signal) => getJson<Static<typeof FilingApprovalList>>('/filing-consents', undefined, signal), []);
  const action = useAction();

  // The bell's notification opens /settings/filing-approvals: bring this section into view.
  useEffect(() => {
    if (path === '/settings/filing-approvals' && pending.data) root.current?.scrollIntoView({ block: 'start' });
  }, [path, pending.data]);

  const decide = async (item: Item, decision: 'approve' | 'decline') => {
    if (await action.run(() => postJson(`/filing-approvals/${item.id}`, { decision }))) {
      pending.reload();
      decided.reload();
    }
  };
  const describe = (item: Item) => t('settings.filingApprovals.item', { address: item.address, client: item.client.name, count: item.messages });
  const asker = (item: Item) => (item.requestedBy ? t('settings.filingApprovals.askedBy', { name: item.requestedBy.name }) : t('settings.filingApprovals.newMail'));
  const waiting = pending.data?.items ?? [];
  const answered = decided.data?.items ?? [];
  return (
    <section id="settings-filing-approvals" ref={root} class="card" aria-labelledby="settings-filing-approvals-heading">
      <h2 id="settings-filing-approvals-heading">{t('settings.filingApprovals.title')}</h2>
      <p class="muted">{t('settings.filingApprovals.intro')}</p>
      <ErrorAlert error={pending.error ?? decided.error ?? action.error} />
      {waiting.length === 0 && <p class="muted">{t('settings.filingApprovals.none')}</p>}
      {waiting.length > 0 && (
        <ul class="filing-approvals">
          {waiting.map((item) => (
            <li key={item.id} class="filing-approval">
              <p>
                <strong>{describe(item)}</strong>
                <br />
                <span class="small muted">{asker(item)}</span>
              </p>
              <div class="toolbar">
                <button type="button" class="btn btn-primary" disabled={action.busy} onClick={() => decide(item, 'approve')}
                  aria-label={t('settings.filingApprovals.approveNamed', { address: item.address, client: item.client.name })}>
                  {t('settings.filingApprovals.approve')}
                </button>
                <button type="button" class="btn" disabled={action.busy} onClick={() => decide(item, 'decline')}
                  aria-label={t('settings.filingApprovals.declineNamed', { address: item.address, client: item.client.name })}>
                  {t('settings.filingApprovals.decline')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {answered.length > 0 && (
        <>
          <h3>{t('settings.filingApprovals.answered')}</h3>
          <div class="table-wrap">
            <table class="table table-compact">
              <thead>
                <tr>
                  <th scope="col">{t('settings.filingApprovals.address')}</th>
                  <th scope="col">{t('settings.filingApprovals.client')}</th>
                  <th scope="col">{t('settings.filingApprovals.status')}</th>
                  <th scope="col">
                    <span class="visually-hidden">{t('client.documents.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {answered.map((item) => (
                  <tr key={item.id}>
                    <td>{item.address}</td>
                    <td>{item.client.name}</td>
                    <td>{item.status === 'approved' ? t('settings.filingApprovals.approved') : t('settings.filingApprovals.declined')}</td>
                    <td>
                      <button type="button" class="btn" disabled={action.busy} onClick={() => decide(item, item.status === 'approved' ? 'decline' : 'approve')}>
                        {item.status === 'approved' ? t('settings.filingApprovals.stop') : t('settings.filingApprovals.allow')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
