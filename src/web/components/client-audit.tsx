// A client's Audit tab: who changed what about this client, its contacts, log and documents, newest first.
import type { Static } from 'typebox';
import type { TFunction } from 'i18next';
import type { AuditPage } from '../../server/schemas/crm.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert } from './client-ui.tsx';
import { LoadMoreButton, usePagedList } from './use-paged-list.tsx';

type Page = Static<typeof AuditPage>;
type Item = Page['items'][number];

/** Details as short "key: value" pairs; nested values as compact JSON. */
function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)}`)
    .join(' · ');
}

/** The action in words when it has a translation (client.audit.act.*), else its code as recorded. */
function describeAction(t: TFunction, action: string): string {
  const translate = t as unknown as (key: string, options: { defaultValue: string }) => string;
  return /^[a-z_]+\.[a-z_]+$/.test(action) ? translate(`client.audit.act.${action}`, { defaultValue: action }) : action;
}

export function ClientAudit({ clientId }: { clientId: string }) {
  const { t, formatDate } = useI18n();
  const list = usePagedList<Item, Page>(`/clients/${clientId}/audit`, { limit: 100 }, [clientId]);
  const items = list.items;
  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">{t('client.audit.title')}</h2>
      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 ? (
        <p class="muted">{t('client.audit.empty')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('client.audit.when')}</th>
                <th scope="col">{t('client.audit.who')}</th>
                <th scope="col">{t('client.audit.action')}</th>
                <th scope="col">{t('client.audit.details')}</th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {items.map((a) => (
                <tr key={a.id}>
                  <td class="nowrap">{formatDate(a.at, { dateStyle: 'short', timeStyle: 'medium' })}</td>
                  <td>{a.actor?.name ?? t('client.audit.system')}</td>
                  <td>{describeAction(t, a.action)}</td>
                  <td class="audit-details">{describeDetails(a.details)}</td>
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
