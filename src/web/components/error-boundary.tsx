// Catches a page that fails to render or to load its chunk (e.g. after a deploy), and offers a reload
// instead of a blank screen. Only wraps pages: the layout stays usable.
import { Component, type ComponentChildren } from 'preact';
import { useI18n } from '../i18n/context.tsx';
import { Icon } from './icon.tsx';

type Props = { children: ComponentChildren };
type State = { failed: boolean };

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { failed: false };

  static override getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidCatch(error: unknown): void {
    console.error(error);
  }

  override render() {
    return this.state.failed ? <PageFailed /> : this.props.children;
  }
}

function PageFailed() {
  const { t } = useI18n();
  return (
    <div class="alert alert-error" role="alert">
      <Icon name="alert" />
      <p>{t('errors.pageFailed')}</p>
      <button type="button" class="btn" onClick={() => window.location.reload()}>
        {t('errors.reload')}
      </button>
    </div>
  );
}
