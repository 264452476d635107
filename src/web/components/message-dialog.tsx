// A modal dialog on the native <dialog> (focus kept inside, Escape closes, the page behind inert), used by
// the mail screens for filing, previews and new messages. Focus returns to where it was when it closes.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { MailIcon } from './message-icons.tsx';

export function MessageDialog({ title, onClose, children, wide = false, labelId }: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
  labelId: string;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
      opener?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={`mail-dialog${wide ? ' mail-dialog-wide' : ''}`}
      aria-labelledby={labelId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header class="mail-dialog-header">
        <h2 id={labelId}>{title}</h2>
        <button type="button" class="icon-btn" onClick={onClose} aria-label={t('message.close')}>
          <MailIcon name="close" />
        </button>
      </header>
      <div class="mail-dialog-body">{children}</div>
    </dialog>
  );
}
