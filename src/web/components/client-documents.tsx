// A client's Documents tab: the list (saved from mail, uploaded, requested), upload, rename, category,
// the visible-to-client switch, download (served as an attachment by the API) and delete.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { DocumentPage, DocumentView, DocumentsCreated } from '../../server/schemas/crm.ts';
import { deleteJson, getJson, patchJson, postRaw } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, Switch, useAction, useLoad } from './client-ui.tsx';
import { ShareButton } from './share-dialog.tsx';

type Page = Static<typeof DocumentPage>;

export function ClientDocuments({ clientId }: { clientId: string }) {
  const { t } = useI18n();
  const list = useLoad((signal) => getJson<Page>(`/clients/${clientId}/documents`, { limit: 200 }, signal), [clientId]);
  const [editing, setEditing] = useState<DocumentView | null>(null);
  const items = list.data?.items ?? [];
  const replace = (doc: DocumentView) => list.data && list.setData({ ...list.data, items: list.data.items.map((d) => (d.id === doc.id ? doc : d)) });
  return (
    <section aria-labelledby="documents-heading">
      <h2 id="documents-heading">{t('client.documents.title')}</h2>
      <ShareButton clientId={clientId} onShared={list.reload} />
      <UploadForm clientId={clientId} onUploaded={list.reload} />
      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 ? (
        <p class="muted">{t('client.documents.empty')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('client.documents.name')}</th>
                <th scope="col">{t('client.documents.category')}</th>
                <th scope="col" class="num">{t('client.documents.size')}</th>
                <th scope="col">{t('client.documents.source')}</th>
                <th scope="col">{t('client.documents.added')}</th>
                <th scope="col">{t('client.documents.visible')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('client.documents.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {items.map((d) => (
                <DocumentRow key={d.id} doc={d} onChanged={replace} onEdit={() => setEditing(d)} onDeleted={list.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && (
        <EditDialog
          doc={editing}
          onClose={() => setEditing(null)}
          onSaved={(doc) => {
            replace(doc);
            setEditing(null);
          }}
        />
      )}
    </section>
  );
}

function DocumentRow({ doc, onChanged, onEdit, onDeleted }: { doc: DocumentView; onChanged: (d: DocumentView) => void; onEdit: () => void; onDeleted: () => void }) {
  const { t, formatDate, formatNumber } = useI18n();
  const action = useAction();
  const [visible, setVisible] = useState(doc.visibleToClient);
  // The list reloads after a share (which makes documents visible): follow it, not the first render.
  useEffect(() => setVisible(doc.visibleToClient), [doc.visibleToClient]);
  const onDelete = async () => {
    if (!window.confirm(t('client.documents.deleteConfirm', { name: doc.name }))) return;
    if (await action.run(() => deleteJson(`/documents/${doc.id}`))) onDeleted();
  };
  return (
    <tr>
      <td>
        {doc.status === 'saved' ? (
          <a href={`/api/documents/${doc.id}/download`} download={doc.name}>
            {doc.name}
          </a>
        ) : (
          <span>
            {doc.name} <span class="badge badge-warn">{t('client.documents.tooLarge')}</span>
          </span>
        )}
        <ErrorAlert error={action.error} />
      </td>
      <td>{doc.category ?? '—'}</td>
      <td class="num nowrap">{t('client.size', { size: formatNumber(Math.max(1, doc.size / 1024), { maximumFractionDigits: 0 }) })}</td>
      <td>{t(`client.documents.from.${doc.source}`)}</td>
      <td class="nowrap">{formatDate(doc.createdAt)}</td>
      <td>
        <Switch
          label={visible ? t('client.documents.shown') : t('client.documents.hidden')}
          checked={visible}
          disabled={action.busy}
          onChange={async (on) => {
            // Shown at once; put back if the server refuses.
            setVisible(on);
            if (!(await action.run(async () => onChanged(await patchJson<DocumentView>(`/documents/${doc.id}`, { visibleToClient: on }))))) setVisible(!on);
          }}
        />
      </td>
      <td class="nowrap">
        <button type="button" class="btn btn-small" onClick={onEdit} aria-label={t('client.documents.editNamed', { name: doc.name })}>
          {t('client.edit')}
        </button>{' '}
        <button type="button" class="btn btn-small btn-danger" onClick={onDelete} aria-label={t('client.documents.deleteNamed', { name: doc.name })}>
          {t('client.delete')}
        </button>
      </td>
    </tr>
  );
}

function UploadForm({ clientId, onUploaded }: { clientId: string; onUploaded: () => void }) {
  const { t } = useI18n();
  const fileInput = useRef<HTMLInputElement>(null);
  const [category, setCategory] = useState('');
  // Uploads are visible to the client by default, as in the API (docs/API-additions.md, issue 15).
  const [visible, setVisible] = useState(true);
  const [missing, setMissing] = useState(false);
  const [done, setDone] = useState<number | null>(null);
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const files = fileInput.current?.files;
    if (!files || files.length === 0) return setMissing(true);
    setMissing(false);
    setDone(null);
    const form = new FormData();
    // Fields first: the server reads the parts in order and applies them to the files that follow.
    if (category.trim()) form.append('category', category.trim());
    form.append('visibleToClient', String(visible));
    for (const file of files) form.append('file', file, file.name);
    await action.run(async () => {
      const created = await postRaw<Static<typeof DocumentsCreated>>(`/clients/${clientId}/documents`, form);
      setDone(created.items.length);
      if (fileInput.current) fileInput.current.value = '';
      onUploaded();
    });
  };
  return (
    <form class="card upload-form" noValidate onSubmit={onSubmit} aria-labelledby="upload-heading">
      <h3 id="upload-heading">{t('client.documents.upload')}</h3>
      <div class="form-row">
        <div class="field">
          <label for="upload-files">{t('client.documents.files')}</label>
          <input id="upload-files" ref={fileInput} type="file" multiple aria-invalid={missing || undefined} />
          {missing && <p class="field-error">{t('client.documents.filesRequired')}</p>}
        </div>
        <div class="field">
          <label for="upload-category">{t('client.documents.category')}</label>
          <input id="upload-category" type="text" value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
        </div>
        <Switch label={t('client.documents.visible')} checked={visible} onChange={setVisible} />
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? t('client.documents.uploading') : t('client.documents.uploadButton')}
        </button>
      </div>
      {done !== null && (
        <p role="status" class="muted">
          {t('client.documents.uploaded', { count: done })}
        </p>
      )}
      <ErrorAlert error={action.error} />
    </form>
  );
}

function EditDialog({ doc, onClose, onSaved }: { doc: DocumentView; onClose: () => void; onSaved: (d: DocumentView) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState(doc.name);
  const [category, setCategory] = useState(doc.category ?? '');
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) return;
    await action.run(async () => onSaved(await patchJson<DocumentView>(`/documents/${doc.id}`, { name: name.trim(), category: category.trim() || null })));
  };
  return (
    <Dialog title={t('client.documents.editTitle')} onClose={onClose}>
      <form class="form" noValidate onSubmit={onSubmit}>
        <ErrorAlert error={action.error} />
        <div class="field">
          <label for="doc-name">{t('client.documents.name')}</label>
          <input id="doc-name" type="text" value={name} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="doc-category">{t('client.documents.category')}</label>
          <input id="doc-category" type="text" value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
        </div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy || !name.trim()}>
            {t('client.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
