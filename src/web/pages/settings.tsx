// Settings (placeholder until issue 5): for now, who you are; mail accounts, users and tokens come later.
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { useI18n } from '../i18n/context.tsx';
import { useUser } from '../session.tsx';

export default function SettingsPage() {
  const { t } = useI18n();
  const user = useUser();
  return (
    <>
      <PageHeader title={t('settings.title')} />
      <section class="card" aria-labelledby="settings-profile">
        <h2 id="settings-profile">{t('settings.profile')}</h2>
        <dl class="details">
          <dt>{t('settings.name')}</dt>
          <dd>{user.name}</dd>
          <dt>{t('settings.email')}</dt>
          <dd>{user.email}</dd>
          <dt>{t('settings.role')}</dt>
          <dd>{t(`userMenu.role.${user.role}`)}</dd>
        </dl>
      </section>
      <EmptyState icon="settings" text={t('settings.empty')} />
    </>
  );
}
