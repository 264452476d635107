// A file request's status as a badge (open, partially fulfilled, fulfilled, cancelled; overdue marked).
import { useI18n } from '../i18n/context.tsx';

export function RequestStatus({ status, overdue }: { status: 'open' | 'partially_fulfilled' | 'fulfilled' | 'cancelled'; overdue: boolean }) {
  const { t } = useI18n();
  return (
    <span>
      <span class="badge">{t(`requests.statuses.${status}`)}</span>
      {overdue && <span class="badge badge-warn">{t('requests.overdue')}</span>}
    </span>
  );
}
