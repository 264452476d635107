// A client's Emails tab: the messages (or conversations) filed to the client, newest first, unread ones in
// bold with the tab's unread count, each linking to the message view (/inbox/:id, the Inbox+ pages).
// Read-only here: filing and replying happen in the message view.
import { useEffect, useState } from 'preact/hooks';
import type { MessagePage, MessageSummary } from '../../server/schemas/messages.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert } from './client-ui.tsx';
import { LoadMoreButton, usePagedList } from './use-paged-list.tsx';
import { messageHref } from './message-list-state.ts';
import { listDate } from './list-date.ts';
import { applyReadChange, onReadChange } from './message-api.ts';

export function ClientEmails({ clientId, unread }: { clientId: string; unread: number | null }) {
  const { t, formatDate } = useI18n();
  const [conversations, setConversations] = useState(false);
  const list = usePagedList<MessageSummary, MessagePage>('/messages', { clientId, limit: 50, view: conversations ? 'conversations' : undefined }, [clientId, conversations]);
  const items = list.items;
  useEffect(() => onReadChange((change) => list.mapItems((m) => applyReadChange(m, change))));
  return (
    <section aria-labelledby="emails-heading">
      <div class="section-head">
        <h2 id="emails-heading">{t('client.emails.title')}</h2>
        {unread !== null && unread > 0 && <span class="muted" data-testid="client-unread-count">{t('client.emails.unreadCount', { count: unread })}</span>}
        <div class="view-toggle" role="group" aria-label={t('client.emails.viewLabel')}>
          <button type="button" class="btn btn-small" aria-pressed={!conversations} onClick={() => setConversations(false)}>
            {t('client.emails.messages')}
          </button>
          <button type="button" class="btn btn-small" aria-pressed={conversations} onClick={() => setConversations(true)}>
            {t('client.emails.conversations')}
          </button>
        </div>
      </div>
      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 ? (
        <p class="muted">{t('client.emails.empty')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('client.emails.date')}</th>
                <th scope="col">{t('client.emails.from')}</th>
                <th scope="col">{t('client.emails.subject')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('client.emails.attachments')}</span>
                </th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {items.map((m) => (
                <tr key={m.id} class={m.unread ? 'row-unread' : undefined}>
                  <td class="nowrap">
                    <time dateTime={m.date} title={formatDate(m.date, { dateStyle: 'full', timeStyle: 'short' })}>
                      {listDate(formatDate, m.date)}
                    </time>
                  </td>
                  <td>
                    {m.direction === 'outbound'
                      ? t('client.emails.to', { to: m.to.map((a) => a.name || a.address).join(', ') })
                      : m.from?.name || m.from?.address || '—'}
                  </td>
                  <td>
                    <a href={messageHref(m.id)}>{m.subject || t('client.log.noSubject')}</a>
                    {m.threadCount !== undefined && m.threadCount > 1 && (
                      <span class="chip chip-small" title={t('client.emails.threadCount', { count: m.threadCount })}>
                        {m.threadCount}
                        <span class="visually-hidden"> {t('client.emails.threadCount', { count: m.threadCount })}</span>
                      </span>
                    )}
                    {m.snippet && <span class="snippet muted"> — {m.snippet}</span>}
                  </td>
                  <td>{m.hasAttachments && <span title={t('client.emails.attachments')}>📎<span class="visually-hidden">{t('client.emails.attachments')}</span></span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMoreButton list={list} label={t('client.loadMore')} />
      <ErrorAlert error={list.loadMoreError} />
    </section>
  );
}
