// The signed-in frame: skip link, top bar (brand, main navigation, language, user menu), and <main>.
// Navigation comes from routes.ts; focus moves to <main> after each navigation so screen readers follow.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { useI18n } from '../i18n/context.tsx';
import { homePath } from '../paths.ts';
import { pageRoutes } from '../routes.ts';
import { Icon } from './icon.tsx';
import { LanguageSwitch } from './language-switch.tsx';
import { NotificationBell } from './notification-bell.tsx';
import { useTaskCount } from './task-count.ts';
import { UserMenu } from './user-menu.tsx';

export function Layout({ children }: { children: ComponentChildren }) {
  const { t } = useI18n();
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  const tasks = useTaskCount();

  useEffect(() => {
    // Not on the first render: the browser's own start-of-page focus is right there.
    if (!firstRender.current) main.current?.focus();
    firstRender.current = false;
  }, [path]);

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header class="topbar">
        <a class="brand" href={homePath}>
          <span class="brand-mark" aria-hidden="true">
            D
          </span>
          <span class="brand-name">{t('app.name')}</span>
        </a>
        <nav class="mainnav" aria-label={t('nav.label')}>
          <ul>
            {pageRoutes.flatMap(({ nav }) => {
              if (!nav) return [];
              const current = path === nav.href || path.startsWith(`${nav.href}/`);
              return [
                <li key={nav.href}>
                  <a href={nav.href} aria-current={current ? 'page' : undefined}>
                    <Icon name={nav.icon} />
                    <span>{t(nav.label)}</span>
                    {nav.href === '/tasks' && tasks && tasks.open > 0 && (
                      <span class={`nav-count${tasks.overdue ? ' nav-count-overdue' : ''}`} aria-label={t('tasks.navCount', { count: tasks.open, overdue: tasks.overdue })}>
                        {tasks.open}
                      </span>
                    )}
                  </a>
                </li>,
              ];
            })}
          </ul>
        </nav>
        <div class="topbar-tools">
          <NotificationBell />
          <LanguageSwitch id="layout-language" compact />
          <UserMenu />
        </div>
      </header>
      <main id="main" class="content" tabIndex={-1} ref={main}>
        {children}
      </main>
    </div>
  );
}
