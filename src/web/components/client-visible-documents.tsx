// The client overview's "Visible to client": the documents the client's contacts may receive (uploads,
// request replies, saved and shared documents; auto-saved attachments stay hidden), newest first, with a count.
import type { Static } from 'typebox';
import type { VisibleDocuments } from '../../server/schemas/crm.ts';
import { getJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useLoad } from './client-ui.tsx';

export function ClientVisibleDocuments({ clientId }: { clientId: string }) {
  const { t } = useI18n();
  const docs = useLoad((signal) => getJson<Static<typeof VisibleDocuments>>(`/clients/${clientId}/visible-documents`, undefined, signal), [clientId]);
  return (
    <section class="card" aria-labelledby="client-visible-heading">
      <h2 id="client-visible-heading">{t('client.overview.visibleTitle')}</h2>
      <ErrorAlert error={docs.error} />
      {docs.data && <p class="muted">{t('client.overview.visibleCount', { count: docs.data.total })}</p>}
      <ul class="plain-list">
        {docs.data?.items.map((d) => (
          <li key={d.id}>{d.name}</li>
        ))}
      </ul>
    </section>
  );
}
