// Inbox+ (placeholder until issue 5): the unified list of every mailbox the user may see.
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { useI18n } from '../i18n/context.tsx';

export default function InboxPage() {
  const { t, formatDate } = useI18n();
  return (
    <>
      <PageHeader title={t('inbox.title')}>
        <p class="muted">{t('inbox.today', { date: formatDate(new Date(), { weekday: 'long', day: 'numeric', month: 'long' }) })}</p>
      </PageHeader>
      <EmptyState icon="inbox" text={t('inbox.empty')} />
    </>
  );
}
