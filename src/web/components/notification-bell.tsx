// The notification bell in the top bar: the unread count (polled while the tab is visible), and a
// disclosure panel listing notifications unread first; opening one marks it read and follows its link.
import { useLiveEvent } from '../live-events.ts';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { NotificationItem, NotificationPage, ReadAllResult, UnreadCount } from '../../server/schemas/collaboration.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import '../styles/notifications.css';

type Item = Static<typeof NotificationItem>;
const POLL_MS = 30_000;
const BELL = 'M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.73 21a2 2 0 0 1-3.46 0';

export function NotificationBell() {
  const { t, formatDate } = useI18n();
  const { route } = useLocation();
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<Item[] | null>(null);
  const [failed, setFailed] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  const refreshCount = useCallback(async () => {
    try {
      setUnread((await getJson<Static<typeof UnreadCount>>('/notifications/unread-count')).unread);
    } catch {
      // The next poll tries again; the bell is not worth an error message.
    }
  }, []);

  useEffect(() => {
    void refreshCount();
    const timer = window.setInterval(() => {
      if (!document.hidden) void refreshCount();
    }, POLL_MS);
    const onVisible = () => {
      if (!document.hidden) void refreshCount();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refreshCount]);

  // Told at once by the live stream; the poll above stays as the fallback for a stream a proxy cut.
  useLiveEvent('notification', () => {
    void refreshCount();
    if (open) void load();
  });
  useLiveEvent('reconnected', () => void refreshCount());

  const load = useCallback(async () => {
    setFailed(false);
    try {
      const page = await getJson<Static<typeof NotificationPage>>('/notifications/page', { limit: 20 });
      setItems(page.items);
      setUnread(page.unread);
    } catch {
      setFailed(true);
    }
  }, []);

  useEffect(() => {
    if (!open) return;
    void load();
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
  }, [open, load]);

  const onFocusOut = (event: FocusEvent) => {
    const next = event.relatedTarget as Node | null;
    if (next && !root.current?.contains(next)) setOpen(false);
  };

  const openItem = async (item: Item) => {
    if (!item.readAt) {
      try {
        await postJson(`/notifications/${item.id}/read`);
        setUnread((n) => Math.max(0, n - 1));
        setItems((list) => list?.map((i) => (i.id === item.id ? { ...i, readAt: new Date().toISOString() } : i)) ?? null);
      } catch {
        setFailed(true);
      }
    }
    if (item.link) {
      setOpen(false);
      route(item.link);
    }
  };

  const readAll = async () => {
    try {
      const result = await postJson<Static<typeof ReadAllResult>>('/notifications/read-all');
      setUnread(result.unread);
      const now = new Date().toISOString();
      setItems((list) => list?.map((i) => ({ ...i, readAt: i.readAt ?? now })) ?? null);
    } catch {
      setFailed(true);
    }
  };

  return (
    <div class="notification-bell" ref={root} onFocusOut={onFocusOut}>
      <button
        ref={button}
        type="button"
        class="notification-bell-button"
        aria-expanded={open}
        aria-controls="notification-panel"
        aria-label={unread > 0 ? t('notifications.openUnread', { count: unread }) : t('notifications.open')}
        onClick={() => setOpen(!open)}
      >
        <svg class="icon" width={20} height={20} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
          <path d={BELL} />
        </svg>
        {unread > 0 && (
          <span class="notification-count" aria-hidden="true">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      <div id="notification-panel" class="notification-panel" hidden={!open}>
        <div class="notification-panel-head">
          <strong>{t('notifications.title')}</strong>
          <button type="button" class="btn" onClick={readAll} disabled={unread === 0}>
            {t('notifications.readAll')}
          </button>
        </div>
        {failed && (
          <p class="field-error" role="alert">
            {t('notifications.loadFailed')}
          </p>
        )}
        {items === null && !failed && <p class="muted">{t('app.loading')}</p>}
        {items?.length === 0 && <p class="muted notification-empty">{t('notifications.empty')}</p>}
        {items && items.length > 0 && (
          <ul class="notification-list">
            {items.map((item) => (
              <li key={item.id}>
                <button type="button" class={`notification-item${item.readAt ? '' : ' unread'}`} onClick={() => openItem(item)}>
                  <span class="notification-title">
                    {!item.readAt && <span class="visually-hidden">{t('notifications.unread')} </span>}
                    {item.title}
                  </span>
                  <span class="notification-time muted">{formatDate(item.createdAt, { dateStyle: 'medium', timeStyle: 'short' })}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
