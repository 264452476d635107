// Clients (placeholder until issue 5): list, search, and each client's contacts, log and documents.
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { useI18n } from '../i18n/context.tsx';

export default function ClientsPage() {
  const { t } = useI18n();
  return (
    <>
      <PageHeader title={t('clients.title')} />
      <EmptyState icon="clients" text={t('clients.empty')} />
    </>
  );
}
