// A page's <h1> and the document title that matches it. Every page starts with one.
import { useEffect } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { useI18n } from '../i18n/context.tsx';

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  const { t } = useI18n();
  const appName = t('app.name');
  useEffect(() => {
    document.title = `${title} · ${appName}`;
  }, [title, appName]);
  return (
    <header class="page-header">
      <h1>{title}</h1>
      {children}
    </header>
  );
}
