// Settings → your API tokens for scripts and integrations (Authorization: Bearer). A new token is shown
// once, right after it is made: the server keeps only its hash.
import { useState } from 'preact/hooks';
import type { TokenView } from '../../server/schemas.ts';
import { deleteJson, getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';

export function SettingsTokens() {
  const { t, formatDate } = useI18n();
  const list = useLoad((signal) => getJson<{ items: TokenView[] }>('/tokens', undefined, signal), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const action = useAction();
  const onCreate = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) return;
    await action.run(async () => {
      const made = await postJson<{ id: string; name: string; token: string }>('/tokens', { name: name.trim() });
      setCreated(made);
      setCopied(false);
      setName('');
      list.reload();
    });
  };
  const onDelete = async (token: TokenView) => {
    if (!window.confirm(t('settings.tokens.deleteConfirm', { name: token.name }))) return;
    if (await action.run(() => deleteJson(`/tokens/${token.id}`))) list.reload();
  };
  const onCopy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      // No clipboard permission: the field is selected instead, for Ctrl+C.
      (document.getElementById('token-value') as HTMLInputElement | null)?.select();
    }
  };
  const items = list.data?.items ?? [];
  return (
    <section id="settings-tokens" class="card" aria-labelledby="settings-tokens-heading">
      <h2 id="settings-tokens-heading">{t('settings.tokens.title')}</h2>
      <p class="muted">{t('settings.tokens.intro')}</p>
      <ErrorAlert error={list.error} />
      {created && (
        <div class="alert alert-info token-once" role="status">
          <div class="field">
            <label for="token-value">{t('settings.tokens.createdLabel', { name: created.name })}</label>
            <div class="toolbar">
              <input id="token-value" type="text" readOnly value={created.token} onFocus={(e) => e.currentTarget.select()} class="mono" />
              <button type="button" class="btn" onClick={onCopy}>
                {copied ? t('settings.tokens.copied') : t('settings.tokens.copy')}
              </button>
            </div>
            <p class="small">{t('settings.tokens.once')}</p>
          </div>
        </div>
      )}
      {items.length > 0 ? (
        <div class="table-wrap">
          <table class="table table-compact">
            <thead>
              <tr>
                <th scope="col">{t('settings.tokens.name')}</th>
                <th scope="col">{t('settings.tokens.prefix')}</th>
                <th scope="col">{t('settings.tokens.created')}</th>
                <th scope="col">{t('settings.tokens.lastUsed')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('client.documents.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((tok) => (
                <tr key={tok.id}>
                  <td>{tok.name}</td>
                  <td>
                    <code>{tok.prefix}…</code>
                  </td>
                  <td>{formatDate(tok.createdAt)}</td>
                  <td>{tok.lastUsedAt ? formatDate(tok.lastUsedAt, { dateStyle: 'medium', timeStyle: 'short' }) : t('settings.tokens.never')}</td>
                  <td>
                    <button type="button" class="btn btn-small btn-danger" onClick={() => onDelete(tok)} aria-label={t('settings.tokens.deleteNamed', { name: tok.name })}>
                      {t('client.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        list.data && <p class="muted">{t('settings.tokens.empty')}</p>
      )}
      <form class="toolbar" onSubmit={onCreate}>
        <label for="token-name">{t('settings.tokens.newName')}</label>
        <input id="token-name" type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="btn btn-primary" disabled={action.busy || !name.trim()}>
          {t('settings.tokens.create')}
        </button>
      </form>
      <ErrorAlert error={action.error} />
    </section>
  );
}
