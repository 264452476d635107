// The signed-in user's menu: who is signed in, and sign out. A disclosure (button + panel), not an ARIA
// menu: it holds text and one action, and closes on Escape, on a click outside, or when focus leaves it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { useSession, useUser } from '../session.tsx';
import { Icon } from './icon.tsx';

function initialsOf(name: string, email: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]].map((w) => w?.[0] ?? '') : [...(words[0] ?? email)].slice(0, 2);
  return letters.join('').toUpperCase();
}

export function UserMenu() {
  const { t } = useI18n();
  const user = useUser();
  const { signOut } = useSession();
  const [open, setOpen] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const [failed, setFailed] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const onFocusOut = (event: FocusEvent) => {
    const next = event.relatedTarget as Node | null;
    if (next && !root.current?.contains(next)) setOpen(false);
  };

  const onSignOut = async () => {
    setLeaving(true);
    setFailed(false);
    try {
      await signOut();
    } catch {
      setFailed(true);
      setLeaving(false);
    }
  };

  return (
    <div class="user-menu" ref={root} onFocusOut={onFocusOut}>
      <button
        ref={button}
        type="button"
        class="user-menu-button"
        aria-expanded={open}
        aria-controls="user-menu-panel"
        aria-label={t('userMenu.open', { name: user.name || user.email })}
        onClick={() => setOpen(!open)}
      >
        <span class="avatar" aria-hidden="true">
          {initialsOf(user.name, user.email)}
        </span>
        <span class="user-menu-name">{user.name || user.email}</span>
        <Icon name="chevronDown" size={16} />
      </button>
      <div id="user-menu-panel" class="user-menu-panel" hidden={!open}>
        <div class="user-menu-who">
          <strong>{user.name}</strong>
          <span class="muted">{user.email}</span>
          <span class="badge">{t(`userMenu.role.${user.role}`)}</span>
        </div>
        <button type="button" class="menu-action" onClick={onSignOut} disabled={leaving}>
          <Icon name="signOut" />
          {leaving ? t('userMenu.signingOut') : t('userMenu.signOut')}
        </button>
        {failed && (
          <p class="field-error" role="alert">
            {t('errors.unknown')}
          </p>
        )}
      </div>
    </div>
  );
}
