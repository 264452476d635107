// A client's Discussions tab: the topics (most recently active first), a new-topic dialog (only contact
// addresses with notify and the "messages" category can be chosen; the others say why), and the open
// topic with its comments, replies held for review (with Accept for whoever may review them), and a comment
// box (sent to the group by email).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { CommentCreated, ContactAddressList, DiscussionCreated, DiscussionPage, DiscussionView } from '../../server/schemas/collaboration.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction, useLoad } from './client-ui.tsx';
import '../styles/discussions.css';

type View = Static<typeof DiscussionView>;
type Comment = View['comments'][number];
type Address = Static<typeof ContactAddressList>['items'][number];

export function ClientDiscussions({ clientId }: { clientId: string }) {
  const { t, formatDate } = useI18n();
  const { query } = useLocation();
  const [openId, setOpenId] = useState<string | null>(query.open ?? null);
  const [creating, setCreating] = useState(false);
  const list = useLoad((signal) => getJson<Static<typeof DiscussionPage>>(`/clients/${clientId}/discussions`, { limit: 200 }, signal), [clientId]);
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="discussions-heading" class="discussions">
      <div class="section-head">
        <h2 id="discussions-heading">{t('discussions.title')}</h2>
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
          {t('discussions.new')}
        </button>
      </div>
      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 && <p class="muted">{t('discussions.empty')}</p>}
      {items.length > 0 && (
        <ul class="discussion-list">
          {items.map((d) => (
            <li key={d.id}>
              <button type="button" class="discussion-item" aria-current={openId === d.id ? 'true' : undefined} onClick={() => setOpenId(d.id)}>
                <strong>{d.subject}</strong>
                <span class="muted">
                  {t('discussions.summary', { comments: t('discussions.commentsCount', { count: d.comments }), participants: t('discussions.participantsCount', { count: d.participants }), date: formatDate(d.updatedAt, { dateStyle: 'medium', timeStyle: 'short' }) })}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {openId && <DiscussionThread key={openId} id={openId} onChanged={list.reload} />}
      {creating && (
        <NewDiscussionDialog
          clientId={clientId}
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            setOpenId(id);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function CommentBlock({ c, children }: { c: Comment; children?: ComponentChildren }) {
  const { t, formatDate } = useI18n();
  const who = c.author.kind === 'user' ? c.author.name : c.author.name ? `${c.author.name} <${c.author.address}>` : c.author.address;
  return (
    <article class={`discussion-comment ${c.author.kind === 'user' ? 'from-firm' : 'from-client'}`}>
      <header>
        <strong>{who}</strong>
        <span class="muted">
          {' · '}
          {formatDate(c.createdAt, { dateStyle: 'medium', timeStyle: 'short' })}
          {c.author.kind === 'contact' ? ` · ${t('discussions.byEmail')}` : ''}
        </span>
      </header>
      <p class="discussion-body">{c.body}</p>
      {children}
    </article>
  );
}

function DiscussionThread({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { t } = useI18n();
  const view = useLoad((signal) => getJson<View>(`/discussions/${id}`, undefined, signal), [id]);
  const [body, setBody] = useState('');
  const send = useAction();
  const accept = useAction();
  const d = view.data;
  const acceptHeld = async (messageId: string) => {
    if (await accept.run(() => postJson<View>(`/discussions/${id}/held/${messageId}/accept`))) {
      view.reload();
      onChanged();
    }
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!body.trim()) return;
    if (await send.run(() => postJson<Static<typeof CommentCreated>>(`/discussions/${id}/comments`, { body }))) {
      setBody('');
      view.reload();
      onChanged();
    }
  };
  return (
    <section class="discussion-thread" aria-labelledby={`discussion-${id}`}>
      <ErrorAlert error={view.error} />
      {d && (
        <>
          <h3 id={`discussion-${id}`}>{d.subject}</h3>
          <p class="muted">{t('discussions.with', { list: d.participants.map((p) => p.name || p.address).join(', ') })}</p>
          {d.comments.map((c) => (
            <CommentBlock key={c.id} c={c} />
          ))}
          {d.held.length > 0 && (
            <details class="discussion-held">
              <summary>{t('discussions.held', { count: d.held.length })}</summary>
              <p class="muted">{t('discussions.heldIntro')}</p>
              {/* The server lists only held comments this user may accept (the mailbox's owner; admins for a public one). */}
              {d.held.map((c) => (
                <CommentBlock key={c.id} c={c}>
                  {c.messageId && (
                    <button type="button" class="btn btn-small" disabled={accept.busy} onClick={() => acceptHeld(c.messageId!)}>
                      {t('discussions.accept')}
                    </button>
                  )}
                </CommentBlock>
              ))}
              <ErrorAlert error={accept.error} />
            </details>
          )}
          <form class="discussion-reply" onSubmit={submit}>
            <label for={`comment-${id}`}>{t('discussions.comment')}</label>
            <textarea id={`comment-${id}`} rows={4} value={body} onInput={(e) => setBody(e.currentTarget.value)} maxLength={100_000} />
            <p class="muted">{t('discussions.commentHint')}</p>
            <ErrorAlert error={send.error} />
            <button type="submit" class="btn btn-primary" disabled={send.busy || !body.trim()}>
              {send.busy ? t('discussions.sending') : t('discussions.send')}
            </button>
          </form>
        </>
      )}
    </section>
  );
}

/** Why an address cannot take part, or null when it can. */
export function addressProblem(a: Address, category: 'messages' | 'documents'): 'notify_off' | 'category_off' | null {
  if (!a.notify) return 'notify_off';
  return a.categories.includes(category) ? null : 'category_off';
}

function NewDiscussionDialog({ clientId, onClose, onCreated }: { clientId: string; onClose: () => void; onCreated: (id: string) => void }) {
  const { t } = useI18n();
  const addresses = useLoad((signal) => getJson<Static<typeof ContactAddressList>>(`/clients/${clientId}/contact-addresses`, undefined, signal), [clientId]);
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const save = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    let id = '';
    const ok = await save.run(async () => {
      id = (await postJson<Static<typeof DiscussionCreated>>(`/clients/${clientId}/discussions`, { subject, body, contactEmailIds: chosen })).discussion.id;
    });
    if (ok) onCreated(id);
  };
  const toggle = (id: string, on: boolean) => setChosen((list) => (on ? [...list, id] : list.filter((x) => x !== id)));
  return (
    <Dialog title={t('discussions.new')} onClose={onClose} wide>
      <form class="form" onSubmit={submit}>
        <fieldset>
          <legend>{t('discussions.participants')}</legend>
          <ErrorAlert error={addresses.error} />
          {addresses.data?.items.length === 0 && <p class="muted">{t('discussions.noContacts')}</p>}
          {addresses.data?.items.map((a) => {
            const problem = addressProblem(a, 'messages');
            return (
              <label key={a.contactEmailId} class="check">
                <input type="checkbox" disabled={problem !== null} checked={chosen.includes(a.contactEmailId)} onChange={(e) => toggle(a.contactEmailId, e.currentTarget.checked)} />
                <span>
                  {a.contactName} &lt;{a.address}&gt;
                  {problem && <span class="muted"> — {t(`discussions.reason.${problem}`)}</span>}
                </span>
              </label>
            );
          })}
        </fieldset>
        <label for="discussion-subject">{t('discussions.subject')}</label>
        <input id="discussion-subject" type="text" required maxLength={300} value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        <label for="discussion-body">{t('discussions.body')}</label>
        <textarea id="discussion-body" rows={6} required value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        <p class="muted">{t('discussions.bodyHint')}</p>
        <ErrorAlert error={save.error} />
        <div class="form-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={save.busy || !chosen.length || !subject.trim() || !body.trim()}>
            {save.busy ? t('discussions.sending') : t('discussions.post')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
