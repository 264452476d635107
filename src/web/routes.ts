// The signed-in pages: one line per page. A page with `nav` also gets a link in the main navigation.
// Pages load lazily (one chunk each) so the first load carries only the shell and the page opened.
import { lazy } from 'preact-iso';
import type { ComponentType } from 'preact';
import type { ParseKeys } from 'i18next';
import type { IconName } from './components/icon.tsx';

export type PageRoute = {
  /** preact-iso pattern: '/clients/:id', '/inbox/:rest*' ... */
  path: string;
  component: ComponentType & { preload?: () => Promise<unknown> };
  nav?: { href: string; label: ParseKeys; icon: IconName };
};

export const pageRoutes: PageRoute[] = [
  // One page for the list and a message: wide screens show both side by side (pages/mail.tsx).
  { path: '/inbox/:id?', component: lazy(() => import('./pages/mail.tsx')), nav: { href: '/inbox', label: 'nav.inbox', icon: 'inbox' } },
  { path: '/clients', component: lazy(() => import('./pages/clients.tsx')), nav: { href: '/clients', label: 'nav.clients', icon: 'clients' } },
  { path: '/clients/:id/:tab?', component: lazy(() => import('./pages/client.tsx')) },
  { path: '/file-requests', component: lazy(() => import('./pages/requests.tsx')), nav: { href: '/file-requests', label: 'nav.requests', icon: 'requests' } },
  { path: '/file-requests/:id', component: lazy(() => import('./pages/request.tsx')) },
  { path: '/log', component: lazy(() => import('./pages/log.tsx')), nav: { href: '/log', label: 'nav.log', icon: 'log' } },
  { path: '/tasks', component: lazy(() => import('./pages/tasks.tsx')), nav: { href: '/tasks', label: 'nav.tasks', icon: 'tasks' } },
  { path: '/settings', component: lazy(() => import('./pages/settings.tsx')), nav: { href: '/settings', label: 'nav.settings', icon: 'settings' } },
  // A section of Settings, e.g. /settings/mail-accounts where a provider's sign-in returns.
  { path: '/settings/:section', component: lazy(() => import('./pages/settings.tsx')) },
];
