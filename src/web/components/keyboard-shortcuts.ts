// Single-key shortcuts for the mail screens (j/k, Enter, r, a, f, /, Esc), like Gmail and Outlook's.
// They never fire while the user types (inputs, the editor) or while a dialog is open, nor with Ctrl/Alt/Meta.
import { useEffect, useRef } from 'preact/hooks';

export type ShortcutMap = Partial<Record<string, (event: KeyboardEvent) => void>>;

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

/** Calls map[event.key] for unmodified key presses outside text fields; the latest map is always used. */
export function useShortcuts(map: ShortcutMap, enabled = true): void {
  const current = useRef(map);
  current.current = map;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
      if (document.querySelector('dialog[open]')) return;
      // Esc still works from the search box (leaves it); every other key belongs to the field.
      if (isTyping(event.target) && event.key !== 'Escape') return;
      // Enter on a button or link is that control's own action.
      if (event.key === 'Enter' && event.target instanceof HTMLElement && event.target.closest('button, a, summary')) {
        if (!event.target.closest('[data-shortcut-enter]')) return;
      }
      const handler = current.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler(event);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [enabled]);
}
