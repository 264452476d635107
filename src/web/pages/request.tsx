// One file request: what was asked of whom, the checklist (tick by hand), the files received, replies
// held for review (accept), the timeline, and resend / cancel.
import { useRoute } from 'preact-iso';
import type { Static } from 'typebox';
import type { FileRequestCreated, FileRequestEventKindName, FileRequestView } from '../../server/schemas/file-requests.ts';
import { ApiError, getJson, patchJson, postJson } from '../api.ts';
import { PageHeader } from '../components/page-header.tsx';
import { ErrorAlert, useAction, useLoad } from '../components/client-ui.tsx';
import { RequestStatus } from '../components/file-request-status.tsx';
import { NotFoundPage } from './not-found.tsx';
import { useI18n } from '../i18n/context.tsx';
import '../styles/client-settings.css';
import { messageHref } from '../components/message-list-state.ts';

type View = Static<typeof FileRequestView>;

export default function RequestPage() {
  const { t, formatDate } = useI18n();
  const { params } = useRoute();
  const id = params.id ?? '';
  const req = useLoad((signal) => getJson<View>(`/file-requests/${id}`, undefined, signal), [id]);
  const action = useAction();
  if (req.error instanceof ApiError && (req.error.status === 404 || req.error.status === 400)) return <NotFoundPage />;
  const r = req.data;
  const open = r && (r.status === 'open' || r.status === 'partially_fulfilled');
  const act = (call: () => Promise<View>) => action.run(async () => req.setData(await call()));
  const held = r ? r.timeline.filter((e) => e.kind === 'held_for_review' && !r.timeline.some((a) => a.kind === 'accepted' && a.messageId === e.messageId)) : [];

  return (
    <>
      <PageHeader title={r?.subject ?? t('requests.title')}>
        {r && (
          <div class="toolbar">
            <RequestStatus status={r.status} overdue={r.overdue} />
            {open && (
              <button type="button" class="btn" disabled={action.busy} onClick={() => act(async () => (await postJson<Static<typeof FileRequestCreated>>(`/file-requests/${id}/resend`)).request)}>
                {t('requests.resend')}
              </button>
            )}
            {open && (
              <button type="button" class="btn btn-danger" disabled={action.busy} onClick={() => window.confirm(t('requests.cancelConfirm')) && act(() => postJson<View>(`/file-requests/${id}/cancel`))}>
                {t('requests.cancel')}
              </button>
            )}
          </div>
        )}
      </PageHeader>
      <ErrorAlert error={req.error ?? action.error} />
      {r && (
        <div class="stack">
          <p>
            <a href={`/clients/${r.client.id}`}>{r.client.name}</a>
            {' · '}
            {t('requests.to', { list: r.recipients.map((x) => x.address).join(', ') })}
            {r.dueDate && ` · ${t('requests.dueOn', { date: r.dueDate })}`}
          </p>
          {r.description && <p style={{ whiteSpace: 'pre-wrap' }}>{r.description}</p>}

          {r.items.length > 0 && (
            <section aria-labelledby="items-heading">
              <h2 id="items-heading">{t('requests.checklist')}</h2>
              <ul class="plain-list">
                {r.items.map((i) => (
                  <li key={i.id}>
                    <label>
                      <input
                        type="checkbox"
                        checked={i.fulfilled}
                        disabled={action.busy || r.status === 'cancelled'}
                        onChange={(e) => act(() => patchJson<View>(`/file-requests/${id}/items/${i.id}`, { fulfilled: e.currentTarget.checked }))}
                      />{' '}
                      {i.label}
                    </label>
                    {i.documentIds.length > 0 && <span class="muted"> · {t('requests.filesCount', { count: i.documentIds.length })}</span>}
                  </li>
                ))}
              </ul>
            </section>
          )}

          <section aria-labelledby="docs-heading">
            <h2 id="docs-heading">{t('requests.received')}</h2>
            {r.receivedDocuments.length === 0 ? (
              <p class="muted">{t('requests.noneReceived')}</p>
            ) : (
              <ul class="plain-list">
                {r.receivedDocuments.map((d) => (
                  <li key={d.id}>
                    <a href={`/api/documents/${d.id}/download`}>{d.name}</a>
                  </li>
                ))}
              </ul>
            )}
          </section>

          {held.length > 0 && (
            <section aria-labelledby="held-heading">
              <h2 id="held-heading">{t('requests.held')}</h2>
              <p class="muted">{t('requests.heldIntro')}</p>
              <ul class="plain-list">
                {held.map((e) => (
                  <li key={e.id}>
                    {e.address} · {formatDate(e.at)}{' '}
                    {e.messageId && (
                      <>
                        <a href={messageHref(e.messageId)}>{t('requests.viewMail')}</a>{' '}
                        <button type="button" class="btn btn-small" disabled={action.busy} onClick={() => act(() => postJson<View>(`/file-requests/${id}/held/${e.messageId}/accept`))}>
                          {t('requests.accept')}
                        </button>
                      </>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}

          <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">{t('requests.timeline')}</h2>
            <ol class="plain-list">
              {r.timeline.map((e) => (
                <li key={e.id}>
                  <time dateTime={e.at}>{formatDate(e.at, { dateStyle: 'medium', timeStyle: 'short' })}</time> · {t(`requests.events.${e.kind as FileRequestEventKindName}`)}
                  {e.address && ` · ${e.address}`}
                  {e.documentIds.length > 0 && ` · ${t('requests.filesCount', { count: e.documentIds.length })}`}
                  {e.messageId && (
                    <>
                      {' · '}
                      <a href={messageHref(e.messageId)}>{t('requests.viewMail')}</a>
                    </>
                  )}
                </li>
              ))}
            </ol>
          </section>
        </div>
      )}
    </>
  );
}
