// The message view: the whole thread (oldest first, the opened message expanded), reply / reply all /
// forward, filing and tagging. Keyboard: j/k next/previous message of the list, r reply, a reply all,
// f file to client, u read/unread, Esc back to Inbox+. Opening it marks the thread's unread messages read
// for this user (Dossier's own read state). Embedded in the reading pane, the list owns j/k, u and Esc.
import { FollowUpButton } from '../components/task-form.tsx';
import { KeepPrivateButton } from '../components/keep-private.tsx';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { PageHeader } from '../components/page-header.tsx';
import { useI18n } from '../i18n/context.tsx';
import { describeError } from '../i18n/describe-error.ts';
import { Compose, type ComposeMode } from '../components/compose.tsx';
import { useShortcuts } from '../components/keyboard-shortcuts.ts';
import { getMessage, getThread, onReadChange, setRead, type MessageDetail } from '../components/message-api.ts';
import { MessageClients } from '../components/message-clients.tsx';
import { MailIcon } from '../components/message-icons.tsx';
import { inboxUrl, neighbourMessage, updateSnapshotMessage } from '../components/message-list-state.ts';
import type { ClientAction } from '../components/file-to-client.tsx';
import { ThreadMessage } from '../components/thread-message.tsx';
import { safeNext } from '../paths.ts';
import '../styles/mail.css';

const composeModes: readonly ComposeMode[] = ['reply', 'replyAll', 'forward'];
const isComposeMode = (v: string | undefined): v is ComposeMode => composeModes.includes(v as ComposeMode);

export default function MessagePage({ embedded = false, onClose }: { embedded?: boolean; onClose?: () => void } = {}) {
  const { t } = useI18n();
  const { params } = useRoute();
  const { query, route } = useLocation();
  const id = params.id ?? '';
  const [readNotice, setReadNotice] = useState<'read' | 'unread' | null>(null);
  const [thread, setThread] = useState<MessageDetail[] | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set([id]));
  const [compose, setCompose] = useState<ComposeMode | null>(isComposeMode(query.compose) ? query.compose : null);
  const [clientAction, setClientAction] = useState<{ id: string; action: ClientAction } | null>(null);
  const [waitingForReply, setWaitingForReply] = useState(false);
  const composeRef = useRef<HTMLDivElement>(null);

  const loaded = useRef<MessageDetail[]>([]);
  const load = useCallback(async () => {
    try {
      const message = await getMessage(id);
      updateSnapshotMessage(message);
      const items = (await getThread(message.threadId)).items;
      loaded.current = items.some((m) => m.id === id) ? items : [...items, message];
      setThread(loaded.current);
      setFailure(null);
      return items.length;
    } catch (error) {
      setFailure(error);
      return 0;
    }
  }, [id]);

  useEffect(() => {
    setThread(null);
    setExpanded(new Set([id]));
    setClientAction(null);
    setWaitingForReply(false);
    setReadNotice(null);
    loaded.current = [];
    let live = true;
    void load().then(() => {
      // Opened: this message and the thread's other unread ones (shown expanded) are read, for this user only.
      const unread = loaded.current.filter((m) => m.unread);
      if (!live || !unread.some((m) => m.id === id)) return;
      setExpanded(new Set([id, ...unread.map((m) => m.id)]));
      void setRead(unread.map((m) => m.id), true, loaded.current[0]?.threadId ?? null).catch(() => undefined);
    });
    return () => {
      live = false;
    };
  }, [id, load]);

  // Read state changed here (u) or in the list beside it: the thread's rows follow.
  useEffect(() => onReadChange((change) => {
    setThread((prev) => prev?.map((m) => (change.ids.includes(m.id) ? { ...m, unread: change.unread } : m)) ?? null);
  }), []);

  // After a reply is sent the worker saves it to Sent and syncs it in: look again until it shows up.
  useEffect(() => {
    if (!waitingForReply || !thread) return;
    const before = thread.length;
    let tries = 0;
    let live = true;
    const again = async () => {
      const count = await load();
      if (!live) return;
      if (count > before || ++tries >= 20) setWaitingForReply(false);
      else setTimeout(() => void again(), 1500);
    };
    const timer = setTimeout(() => void again(), 1000);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // Only when a send finishes (`thread` changes on every reload).
  }, [waitingForReply]);

  useEffect(() => {
    if (compose) composeRef.current?.querySelector<HTMLElement>('[contenteditable], input[type="text"]')?.focus();
  }, [compose]);

  const opened = thread?.find((m) => m.id === id) ?? null;
  // Opened from a client's tab or a request (?back=...): Back returns there; otherwise to Inbox+ as it was.
  const backTo = query.back ? safeNext(query.back) : null;
  const back = () => route(backTo ?? inboxUrl());
  const toggleRead = async () => {
    if (!opened) return;
    await setRead([opened.id], opened.unread, opened.threadId);
    setReadNotice(opened.unread ? 'read' : 'unread');
  };
  const go = (delta: number) => {
    const next = neighbourMessage(id, delta);
    if (!next) return;
    setCompose(null);
    route(`/inbox/${next}`);
  };
  useShortcuts({
    ...(embedded ? {} : {
      j: () => go(1),
      k: () => go(-1),
      u: () => void toggleRead(),
      Escape: (event: KeyboardEvent) => {
        if (compose && event.target instanceof HTMLElement && composeRef.current?.contains(event.target)) return;
        back();
      },
    }),
    r: () => opened && setCompose('reply'),
    a: () => opened && setCompose('replyAll'),
    f: () => opened && setClientAction({ id: opened.id, action: 'file' }),
  });

  if (failure && !thread) {
    return (
      <>
        <PageHeader title={t('message.title')} />
        <div class="alert alert-error" role="alert">
          <p>{describeError(t, failure)}</p>
        </div>
        <a href={backTo ?? inboxUrl()}>{backTo ? t('message.back') : t('message.backToInbox')}</a>
      </>
    );
  }
  if (!thread || !opened) {
    return (
      <div class="splash-inline" role="status">
        <span class="spinner" aria-hidden="true" />
        <span class="visually-hidden">{t('app.loading')}</span>
      </div>
    );
  }

  const toggle = (messageId: string) => {
    const next = new Set(expanded);
    if (next.has(messageId)) next.delete(messageId);
    else next.add(messageId);
    setExpanded(next);
  };

  return (
    <div class={`message-page${embedded ? ' in-pane' : ''}`}>
      <div class="message-toolbar" role="toolbar" aria-label={t('message.actions')}>
        {embedded ? (
          <button type="button" class="btn btn-small" onClick={onClose} aria-keyshortcuts="Escape">
            <MailIcon name="back" size={16} />
            {t('message.closePane')}
          </button>
        ) : (
          <button type="button" class="btn btn-small" onClick={back} aria-keyshortcuts="Escape">
            <MailIcon name="back" size={16} />
            {backTo ? t('message.back') : t('message.backToInbox')}
          </button>
        )}
        <button type="button" class="btn btn-small" onClick={() => setCompose('reply')} aria-keyshortcuts="r">
          <MailIcon name="reply" size={16} />
          {t('message.reply')}
        </button>
        <button type="button" class="btn btn-small" onClick={() => setCompose('replyAll')} aria-keyshortcuts="a">
          <MailIcon name="replyAll" size={16} />
          {t('message.replyAll')}
        </button>
        <button type="button" class="btn btn-small" onClick={() => setCompose('forward')}>
          <MailIcon name="forward" size={16} />
          {t('message.forward')}
        </button>
        <button type="button" class="btn btn-small" onClick={() => void toggleRead()} aria-keyshortcuts="u">
          {opened.unread ? t('message.markRead') : t('message.markUnread')}
        </button>
        <FollowUpButton subject={opened.subject} links={{ messageId: opened.id }} />
        <KeepPrivateButton messageId={opened.id} onChange={() => void load()} />
        <a class="btn btn-small" href={`/api/messages/${opened.id}/raw`} download>
          <MailIcon name="download" size={16} />
          {t('message.downloadOriginal')}
        </a>
      </div>
      <p role="status" class="notice">
        {readNotice === 'unread' ? t('message.markedUnread') : readNotice === 'read' ? t('message.markedRead') : ''}
      </p>
      <PageHeader title={opened.subject || t('message.noSubject')}>
        <p class="muted">{t('message.threadCount', { count: thread.length })}</p>
      </PageHeader>
      <ol class="thread" aria-label={t('message.thread')}>
        {thread.map((m) => (
          <li key={m.id}>
            <ThreadMessage message={m} expanded={expanded.has(m.id)} onToggle={() => toggle(m.id)}>
              <MessageClients
                message={m}
                onChange={() => void load()}
                action={clientAction?.id === m.id ? clientAction.action : null}
                onAction={(action) => setClientAction(action ? { id: m.id, action } : null)}
              />
            </ThreadMessage>
          </li>
        ))}
      </ol>
      {waitingForReply && (
        <p class="muted" role="status">
          {t('message.waitingForReply')}
        </p>
      )}
      <div ref={composeRef}>
        {compose && (
          <Compose
            key={compose}
            mode={compose}
            message={opened}
            onClose={() => setCompose(null)}
            onSent={() => {
              if (compose !== 'forward') setWaitingForReply(true);
            }}
          />
        )}
      </div>
    </div>
  );
}
