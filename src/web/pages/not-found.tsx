// Any signed-in address that no route claims.
import { PageHeader } from '../components/page-header.tsx';
import { useI18n } from '../i18n/context.tsx';
import { homePath } from '../paths.ts';

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <>
      <PageHeader title={t('notFound.title')} />
      <p>{t('notFound.body')}</p>
      <p>
        <a href={homePath}>{t('notFound.back')}</a>
      </p>
    </>
  );
}
