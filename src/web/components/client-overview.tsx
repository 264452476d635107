// A client's Overview tab: its details (name, tax id, notes), its contacts and each contact address
// with its switches (sync, notify and what about, auto-save attachments, language), adding contacts
// and addresses with a preview of the mail that adding will file, and deleting the client.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { ClientView, ContactCreated, ContactEmailResult, ContactEmailView, ContactView, FilingPreview as FilingPreviewShape } from '../../server/schemas/crm.ts';
import { deleteJson, getJson, patchJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { languages } from '../i18n/i18n.ts';
import { useUser } from '../session.tsx';
import { Dialog, ErrorAlert, Switch, useAction, useDebounced, useLoad } from './client-ui.tsx';
import { ClientTasks } from './client-tasks.tsx';
import { ClientVisibleDocuments } from './client-visible-documents.tsx';
import { OwnerSelect } from './owner-select.tsx';

type Preview = Static<typeof FilingPreviewShape>;
type EmailResult = Static<typeof ContactEmailResult>;
type Created = Static<typeof ContactCreated>;
const categories = ['documents', 'file_requests', 'reminders', 'messages'] as const;
const looksLikeAddress = (s: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim());

export function ClientOverview({ client, onChanged }: { client: ClientView; onChanged: () => void }) {
  const { t } = useI18n();
  const [adding, setAdding] = useState(false);
  const [filedNote, setFiledNote] = useState<string | null>(null);
  const onFiled = (filed: number) => {
    if (filed > 0) setFiledNote(t('client.overview.filed', { count: filed }));
  };
  return (
    <div class="overview">
      <ClientDetails client={client} onChanged={onChanged} />
      <ClientTasks clientId={client.id} />
      <ClientVisibleDocuments clientId={client.id} />
      <section class="card" aria-labelledby="contacts-heading">
        <div class="section-head">
          <h2 id="contacts-heading">{t('client.overview.contacts')}</h2>
          <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
            {t('client.overview.addContact')}
          </button>
        </div>
        {filedNote && (
          <p class="alert alert-info" role="status">
            {filedNote}
          </p>
        )}
        {client.contactList.length === 0 && <p class="muted">{t('client.overview.noContacts')}</p>}
        {client.contactList.map((c) => (
          <ContactCard key={c.id} contactId={c.id} role={c.role} clientId={client.id} onChanged={onChanged} onFiled={onFiled} />
        ))}
      </section>
      {adding && (
        <AddContactDialog
          clientId={client.id}
          onClose={() => setAdding(false)}
          onAdded={(filed) => {
            setAdding(false);
            onFiled(filed);
            onChanged();
          }}
        />
      )}
    </div>
  );
}

function ClientDetails({ client, onChanged }: { client: ClientView; onChanged: () => void }) {
  const { t, formatDate } = useI18n();
  const { route } = useLocation();
  const [name, setName] = useState(client.name);
  const [taxId, setTaxId] = useState(client.taxId ?? '');
  const [notes, setNotes] = useState(client.notes);
  const [ownerId, setOwnerId] = useState(client.owner?.id ?? '');
  const [restricted, setRestricted] = useState(client.restricted);
  const [team, setTeam] = useState<string[]>(client.team.map((u) => u.id));
  const colleagues = useLoad((signal) => getJson<{ items: { id: string; name: string }[] }>('/staff', undefined, signal), []);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const remove = useAction();
  // Deleting a client takes its whole history with it: administrators only (the server says 403 to others).
  const canDelete = useUser().role === 'admin';
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    if (await save.run(() => patchJson(`/clients/${client.id}`, { name: name.trim(), taxId: taxId.trim() || null, notes, ownerId: ownerId || null, restricted, teamUserIds: team }))) {
      setSaved(true);
      onChanged();
    }
  };
  const onDelete = async () => {
    if (!window.confirm(t('client.overview.deleteConfirm', { name: client.name }))) return;
    if (await remove.run(() => deleteJson(`/clients/${client.id}`))) route('/clients');
  };
  return (
    <section class="card" aria-labelledby="details-heading">
      <h2 id="details-heading">{t('client.overview.details')}</h2>
      <form class="form form-grid" noValidate onSubmit={onSubmit}>
        <ErrorAlert error={save.error} />
        <div class="field">
          <label for="client-name">{t('clients.name')}</label>
          <input id="client-name" type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="client-tax">{t('clients.taxId')}</label>
          <input id="client-tax" type="text" value={taxId} onInput={(e) => setTaxId(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="client-owner">{t('clients.owner')}</label>
          <OwnerSelect id="client-owner" value={ownerId} onChange={setOwnerId} current={client.owner} />
        </div>
        <div class="field field-wide">
          <label for="client-notes">{t('client.notes')}</label>
          <textarea id="client-notes" rows={3} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        </div>
        <fieldset class="field field-wide client-access">
          <legend>{t('client.access.title')}</legend>
          <Switch label={t('client.access.restricted')} checked={restricted} onChange={setRestricted} />
          <p class="muted">{restricted ? t('client.access.restrictedHint') : t('client.access.openHint')}</p>
          {restricted && (
            <div role="group" aria-label={t('client.access.team')} class="team-picker">
              <span>{t('client.access.team')}</span>
              {(colleagues.data?.items ?? []).map((u) => (
                <label key={u.id} class="checkbox">
                  <input type="checkbox" checked={team.includes(u.id)} onChange={(e) => setTeam(e.currentTarget.checked ? [...team, u.id] : team.filter((id) => id !== u.id))} />
                  {u.name}
                </label>
              ))}
            </div>
          )}
        </fieldset>
        <div class="field-wide toolbar">
          <button type="submit" class="btn btn-primary" disabled={save.busy || !name.trim()}>
            {t('client.save')}
          </button>
          {saved && (
            <span role="status" class="muted">
              {t('client.saved')}
            </span>
          )}
          <span class="muted toolbar-end">{t('client.overview.since', { date: formatDate(client.createdAt) })}</span>
          {canDelete && (
            <button type="button" class="btn btn-danger" onClick={onDelete} disabled={remove.busy}>
              {t('client.overview.delete')}
            </button>
          )}
        </div>
        <ErrorAlert error={remove.error} />
      </form>
    </section>
  );
}

function ContactCard({ contactId, role, clientId, onChanged, onFiled }: { contactId: string; role: string | null; clientId: string; onChanged: () => void; onFiled: (n: number) => void }) {
  const { t } = useI18n();
  const contact = useLoad((signal) => getJson<ContactView>(`/contacts/${contactId}`, undefined, signal), [contactId]);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState('');
  const action = useAction();
  const c = contact.data;
  if (!c) return <ErrorAlert error={contact.error} />;

  const onRename = async (event: Event) => {
    event.preventDefault();
    if (await action.run(() => patchJson(`/contacts/${contactId}`, { name: name.trim() }))) {
      setRenaming(false);
      contact.reload();
    }
  };
  const onUnlink = async () => {
    if (!window.confirm(t('client.overview.unlinkConfirm', { name: c.name }))) return;
    if (await action.run(() => deleteJson(`/clients/${clientId}/contacts/${contactId}`))) onChanged();
  };
  return (
    <article class="contact" aria-labelledby={`contact-${contactId}`}>
      <div class="section-head">
        {renaming ? (
          <form class="toolbar" onSubmit={onRename}>
            <label for={`rename-${contactId}`} class="visually-hidden">
              {t('client.overview.contactName')}
            </label>
            <input id={`rename-${contactId}`} type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
            <button type="submit" class="btn btn-primary btn-small" disabled={!name.trim() || action.busy}>
              {t('client.save')}
            </button>
            <button type="button" class="btn btn-small" onClick={() => setRenaming(false)}>
              {t('client.cancel')}
            </button>
          </form>
        ) : (
          <h3 id={`contact-${contactId}`}>
            {c.name} {role && <span class="badge">{role}</span>}
          </h3>
        )}
        {!renaming && (
          <div class="toolbar">
            <button
              type="button"
              class="btn btn-small"
              onClick={() => {
                setName(c.name);
                setRenaming(true);
              }}
            >
              {t('client.overview.rename')}
            </button>
            <button type="button" class="btn btn-small" onClick={onUnlink}>
              {t('client.overview.unlink')}
            </button>
          </div>
        )}
      </div>
      <ErrorAlert error={action.error} />
      {c.clients.length > 1 && <p class="muted">{t('client.overview.alsoContactOf', { names: c.clients.filter((x) => x.id !== clientId).map((x) => x.name).join(', ') })}</p>}
      {c.clients.length > 1 && (
        <div class="field contact-filing">
          <label for={`filing-${contactId}`}>{t('client.overview.filing')}</label>
          <select
            id={`filing-${contactId}`}
            value={c.filing === 'primary' ? `primary:${c.primaryClientId ?? ''}` : c.filing}
            disabled={action.busy}
            onChange={async (e) => {
              const [filing, primaryClientId] = e.currentTarget.value.split(':') as [ContactView['filing'], string | undefined];
              const body = filing === 'primary' ? { filing, primaryClientId } : { filing };
              if (await action.run(() => patchJson(`/contacts/${contactId}`, body))) contact.reload();
            }}
          >
            <option value="all">{t('client.overview.filingAll')}</option>
            <option value="ask">{t('client.overview.filingAsk')}</option>
            {c.clients.map((x) => (
              <option key={x.id} value={`primary:${x.id}`}>
                {t('client.overview.filingPrimary', { name: x.name })}
              </option>
            ))}
          </select>
        </div>
      )}
      <ul class="address-list">
        {c.emails.map((email) => (
          <AddressRow key={email.id} email={email} onChanged={contact.reload} onFiled={onFiled} />
        ))}
      </ul>
      <AddAddress contactId={contactId} clientId={clientId} onAdded={(filed) => {
        onFiled(filed);
        contact.reload();
        onChanged();
      }} />
    </article>
  );
}

function AddressRow({ email, onChanged, onFiled }: { email: ContactEmailView; onChanged: () => void; onFiled: (n: number) => void }) {
  const { t } = useI18n();
  const [value, setValue] = useState(email);
  const action = useAction();
  const patch = async (change: Partial<ContactEmailView>) => {
    const before = value;
    setValue({ ...value, ...change });
    const ok = await action.run(async () => {
      const result = await patchJson<EmailResult>(`/contact-emails/${email.id}`, change);
      setValue(result);
      onFiled(result.filed);
    });
    if (!ok) setValue(before);
  };
  const onDelete = async () => {
    if (!window.confirm(t('client.overview.deleteAddressConfirm', { address: email.address }))) return;
    if (await action.run(() => deleteJson(`/contact-emails/${email.id}`))) onChanged();
  };
  const labelId = `address-${email.id}`;
  return (
    <li class="address" aria-labelledby={labelId}>
      <div class="address-head">
        <strong id={labelId} class="address-value">
          {email.address}
        </strong>
        <button type="button" class="btn btn-ghost btn-small" onClick={onDelete} aria-label={t('client.overview.deleteAddress', { address: email.address })}>
          {t('client.delete')}
        </button>
      </div>
      <div class="switches" role="group" aria-label={t('client.overview.settingsFor', { address: email.address })}>
        <Switch label={t('client.overview.sync')} checked={value.sync} onChange={(on) => patch({ sync: on })} disabled={action.busy} />
        <Switch label={t('client.overview.notify')} checked={value.notify} onChange={(on) => patch({ notify: on })} disabled={action.busy} />
        <Switch label={t('client.overview.autoSave')} checked={value.autoSaveAttachments} onChange={(on) => patch({ autoSaveAttachments: on })} disabled={action.busy} />
        <div class="field field-inline">
          <label for={`lang-${email.id}`}>{t('client.overview.language')}</label>
          <select id={`lang-${email.id}`} value={value.language} onChange={(e) => patch({ language: e.currentTarget.value as ContactEmailView['language'] })}>
            {languages.map((code) => (
              <option key={code} value={code} lang={code}>
                {t(`language.${code}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {value.notify && (
        <fieldset class="categories">
          <legend>{t('client.overview.notifyAbout')}</legend>
          {categories.map((cat) => (
            <label key={cat} class="check">
              <input
                type="checkbox"
                checked={value.notifyCategories.includes(cat)}
                disabled={action.busy}
                onChange={(e) =>
                  patch({ notifyCategories: e.currentTarget.checked ? [...value.notifyCategories, cat] : value.notifyCategories.filter((x) => x !== cat) })
                }
              />
              {t(`client.overview.category.${cat}`)}
            </label>
          ))}
        </fieldset>
      )}
      <ErrorAlert error={action.error} />
    </li>
  );
}

/** What adding this address would file: the count of existing messages and the clients it already belongs to. */
export function FilingPreview({ address, clientId }: { address: string; clientId: string }) {
  const { t, formatNumber } = useI18n();
  const settled = useDebounced(address.trim(), 300);
  const valid = looksLikeAddress(settled);
  const preview = useLoad(
    (signal) => (valid ? getJson<Preview>('/filing-preview', { address: settled, clientId }, signal) : Promise.resolve(null)),
    [settled, clientId],
  );
  const p = preview.data;
  if (!valid || !p || p.address.toLowerCase() !== settled.toLowerCase()) return null;
  return (
    <div class="filing-preview" role="status">
      {p.ownAddress ? (
        <p class="alert alert-error">{t('client.overview.previewOwn')}</p>
      ) : (
        <p>{t('client.overview.previewMessages', { count: p.messages, n: formatNumber(p.messages) })}</p>
      )}
      {p.clients.length > 0 && <p class="muted">{t('client.overview.previewClients', { names: p.clients.map((c) => c.name).join(', ') })}</p>}
    </div>
  );
}

function AddAddress({ contactId, clientId, onAdded }: { contactId: string; clientId: string; onAdded: (filed: number) => void }) {
  const { t } = useI18n();
  const [address, setAddress] = useState('');
  const [invalid, setInvalid] = useState(false);
  const action = useAction();
  const inputId = `add-address-${contactId}`;
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!looksLikeAddress(address)) return setInvalid(true);
    setInvalid(false);
    await action.run(async () => {
      const result = await postJson<EmailResult>(`/contacts/${contactId}/emails`, { address: address.trim() });
      setAddress('');
      onAdded(result.filed);
    });
  };
  return (
    <form class="add-address" noValidate onSubmit={onSubmit}>
      <div class="field">
        <label for={inputId}>{t('client.overview.addAddress')}</label>
        <div class="toolbar">
          <input id={inputId} type="email" value={address} placeholder="name@example.com" aria-invalid={invalid || undefined} onInput={(e) => setAddress(e.currentTarget.value)} />
          <button type="submit" class="btn" disabled={action.busy}>
            {t('client.add')}
          </button>
        </div>
        {invalid && <p class="field-error">{t('client.overview.addressInvalid')}</p>}
      </div>
      <FilingPreview address={address} clientId={clientId} />
      <ErrorAlert error={action.error} />
    </form>
  );
}

function AddContactDialog({ clientId, onClose, onAdded }: { clientId: string; onClose: () => void; onAdded: (filed: number) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [errors, setErrors] = useState<{ name?: boolean; address?: boolean }>({});
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const found = { name: !name.trim(), address: address.trim() !== '' && !looksLikeAddress(address) };
    setErrors(found);
    if (found.name || found.address) return;
    await action.run(async () => {
      const created = await postJson<Created>('/contacts', {
        name: name.trim(),
        emails: address.trim() ? [{ address: address.trim() }] : [],
        clientIds: [clientId],
      });
      onAdded(created.filed);
    });
  };
  return (
    <Dialog title={t('client.overview.addContact')} onClose={onClose}>
      <form class="form" noValidate onSubmit={onSubmit}>
        <ErrorAlert error={action.error} />
        <div class="field">
          <label for="contact-name">{t('client.overview.contactName')}</label>
          <input id="contact-name" type="text" value={name} autoFocus aria-invalid={errors.name || undefined} onInput={(e) => setName(e.currentTarget.value)} />
          {errors.name && <p class="field-error">{t('clients.nameRequired')}</p>}
        </div>
        <div class="field">
          <label for="contact-address">{t('client.overview.contactAddress')}</label>
          <input id="contact-address" type="email" value={address} aria-invalid={errors.address || undefined} onInput={(e) => setAddress(e.currentTarget.value)} />
          {errors.address && <p class="field-error">{t('client.overview.addressInvalid')}</p>}
          <p class="muted small">{t('client.overview.defaults')}</p>
        </div>
        <FilingPreview address={address} clientId={clientId} />
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {t('client.add')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
