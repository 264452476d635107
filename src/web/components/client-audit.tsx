// A client's Audit tab: who changed what about this client, its contacts, log and documents, newest first.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { TFunction } from 'i18next';
import type { AuditPage } from '../../server/schemas/crm.ts';
import { getJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';

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
  const [more, setMore] = useState<Item[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useLoad(async (signal) => {
    const page = await getJson<Page>(`/clients/${clientId}/audit`, { limit: 100 }, signal);
    setMore([]);
    setCursor(page.nextCursor);
    return page;
  }, [clientId]);
  const loadMore = useAction();
  const items = [...(list.data?.items ?? []), ...more];
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
      {cursor && (
        <p class="load-more">
          <button
            type="button"
            class="btn"
            disabled={loadMore.busy}
            onClick={() =>
              loadMore.run(async () => {
                const page = await getJson<Page>(`/clients/${clientId}/audit`, { limit: 100, cursor });
                setMore([...more, ...page.items]);
                setCursor(page.nextCursor);
              })
            }
          >
            {t('client.loadMore')}
          </button>
        </p>
      )}
      <ErrorAlert error={loadMore.error} />
    </section>
  );
}
