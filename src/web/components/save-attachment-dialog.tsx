// "Save to documents" on one attachment of a message (issue 15): the client (one the message is filed to,
// else any), the document's name, a category from the firm's list (typing a new one adds it) and whether the
// client may receive it. Saving the same file for the same client again shows the document it already has.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { AttachmentSaved, ClientListItem } from '../../server/schemas/crm.ts';
import type { TagList } from '../../server/schemas/communications.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';
import { MessageDialog } from './message-dialog.tsx';

type Saved = Static<typeof AttachmentSaved>;

export function SaveAttachmentDialog({ attachment, clients, onClose }: {
  attachment: { id: string; filename: string };
  clients: { id: string; name: string }[];
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [clientId, setClientId] = useState(clients[0]?.id ?? '');
  const [filename, setFilename] = useState(attachment.filename);
  const [category, setCategory] = useState('');
  const [visible, setVisible] = useState(true);
  const [result, setResult] = useState<Saved | null>(null);
  const save = useAction();
  const categories = useLoad((signal) => getJson<Static<typeof TagList>>('/document-categories', undefined, signal), []);
  // Mail not filed to any client yet: pick from the firm's clients.
  const all = useLoad((signal) => (clients.length ? Promise.resolve(null) : getJson<{ items: ClientListItem[] }>('/clients', { limit: 200 }, signal)), []);
  const choices = clients.length ? clients : (all.data?.items ?? []);
  const chosen = clientId || choices[0]?.id || '';

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!chosen) return;
    await save.run(async () => {
      const body = { clientId: chosen, filename: filename.trim() || attachment.filename, category: category.trim() || null, visibleToClient: visible };
      // created false (200): this client already had these bytes.
      setResult(await postJson<Saved>(`/attachments/${attachment.id}/save`, body));
    });
  };
  const clientName = choices.find((c) => c.id === chosen)?.name ?? '';
  return (
    <MessageDialog title={t('saveDocument.title', { name: attachment.filename })} onClose={onClose} labelId="save-attachment-title">
      <form class="form" onSubmit={onSubmit}>
        <div class="field">
          <label for="save-doc-client">{t('saveDocument.client')}</label>
          <select id="save-doc-client" value={chosen} onChange={(e) => setClientId(e.currentTarget.value)}>
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="save-doc-name">{t('saveDocument.name')}</label>
          <input id="save-doc-name" type="text" maxLength={255} value={filename} onInput={(e) => setFilename(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="save-doc-category">{t('saveDocument.category')}</label>
          <input id="save-doc-category" type="text" list="save-doc-categories" maxLength={100} value={category} onInput={(e) => setCategory(e.currentTarget.value)} aria-describedby="save-doc-category-help" />
          <datalist id="save-doc-categories">
            {(categories.data?.items ?? []).map((c) => (
              <option key={c.id} value={c.name} />
            ))}
          </datalist>
          <p id="save-doc-category-help" class="muted small">
            {t('saveDocument.categoryHelp')}
          </p>
        </div>
        <label class="switch">
          <input type="checkbox" checked={visible} onChange={(e) => setVisible(e.currentTarget.checked)} />
          <span>{t('saveDocument.visible')}</span>
        </label>
        <ErrorAlert error={save.error ?? all.error} />
        {result && (
          <p role="status" class="alert alert-info">
            {result.created
              ? t('saveDocument.saved', { name: result.document.name, client: clientName })
              : t('saveDocument.already', { name: result.document.name, client: clientName })}{' '}
            <a href={`/clients/${result.document.clientId}/documents`}>{t('saveDocument.open')}</a>
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {result ? t('client.close') : t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={save.busy || !chosen}>
            {t('saveDocument.save')}
          </button>
        </div>
      </form>
    </MessageDialog>
  );
}
