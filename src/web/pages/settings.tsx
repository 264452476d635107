// Settings: your profile, display language and signature; password and two-step sign-in; mail accounts; your API tokens; and for
// everyone the reasons, areas and document categories (administrators turn off and delete), and for administrators the staff users. One page, one section each,
// with a table of contents so each section is one jump away.
import { PageHeader } from '../components/page-header.tsx';
import { useI18n } from '../i18n/context.tsx';
import { useUser } from '../session.tsx';
import { SettingsProfile } from '../components/settings-profile.tsx';
import { SettingsSecurity } from '../components/settings-security.tsx';
import { AccountList } from '../components/account-list.tsx';
import { SettingsTokens } from '../components/settings-tokens.tsx';
import { SettingsSyncHealth } from '../components/settings-sync-health.tsx';
import { SettingsFilingApprovals } from '../components/settings-filing-approvals.tsx';
import { SettingsTags } from '../components/settings-tags.tsx';
import { SettingsUsers } from '../components/settings-users.tsx';
import '../styles/client-settings.css';

export default function SettingsPage() {
  const { t } = useI18n();
  const user = useUser();
  const admin = user.role === 'admin';
  const sections = [
    ['settings-profile', t('settings.profile')],
    ['settings-security', t('settings.security.title')],
    ['settings-accounts', t('accounts.title')],
    ['settings-sync-health', t('settings.syncHealth.title')],
    ['settings-filing-approvals', t('settings.filingApprovals.title')],
    ['settings-tags', t('settings.tags.title')],
    ...(admin ? [['settings-users', t('settings.users.title')]] : []),
    ['settings-tokens', t('settings.tokens.title')],
  ] as const;
  return (
    <>
      <PageHeader title={t('settings.title')} />
      <nav class="toc" aria-label={t('settings.sections')}>
        <ul>
          {sections.map(([id, label]) => (
            <li key={id}>
              <a href={`#${id}`}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <SettingsProfile />
      <SettingsSecurity />
      <AccountList />
      <SettingsSyncHealth />
      <SettingsFilingApprovals />
      <SettingsTags />
      {admin && <SettingsUsers />}
      <SettingsTokens />
    </>
  );
}
