// A client's communication log (the a3ASESOR view): filters, the table (kind, date, subject, reason,
// area, initiated by, author), a detail pane on the right where reason and area are tagged, manual
// records (new, edit, delete) and the .xlsx export of what the filters show.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TFunction } from 'i18next';
import type { CommunicationPage, CommunicationView, TagView } from '../../server/schemas/communications.ts';
import { deleteJson, getJson, patchJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction, useDebounced, useLoad } from './client-ui.tsx';
import { LoadMoreButton, usePagedList } from './use-paged-list.tsx';
import { KindIcon, type Kind } from './client-kind-icon.tsx';
import { FollowUpButton } from './task-form.tsx';
import { messageHref } from './message-list-state.ts';

/**
 * Who started it, in words. Mail the firm did not send and no contact of the client wrote (a third party
 * writing to a contact, filed by hand) is stored as 'firm': show who actually wrote it instead.
 */
function initiator(t: TFunction, r: CommunicationView): string {
  if (r.initiatedBy === 'client') return t('client.log.byClient');
  if (r.kind === 'email' && r.direction === 'inbound' && r.from) return r.from.name || r.from.address;
  return t('client.log.byFirm');
}

type Filters = { q: string; kind: string; reasonId: string; areaId: string; initiatedBy: string; from: string; to: string };
const noFilters: Filters = { q: '', kind: '', reasonId: '', areaId: '', initiatedBy: '', from: '', to: '' };
const kinds: Kind[] = ['email', 'call', 'visit', 'meeting', 'letter', 'other'];
const manualKinds = ['call', 'visit', 'meeting', 'letter', 'other'] as const;
type ManualKind = (typeof manualKinds)[number];

/** The filters as query parameters, without the empty ones. */
function toQuery(f: Filters): Record<string, string> {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));
}

/** An ISO instant as the value of <input type="datetime-local"> in the browser's time zone. */
function toLocalInput(iso: string | Date): string {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function ClientLog({ clientId, clientName }: { clientId: string; clientName: string }) {
  const { t, formatDate } = useI18n();
  const [filters, setFilters] = useState<Filters>(noFilters);
  const q = useDebounced(filters.q, 300);
  const effective = { ...filters, q };
  const query = toQuery(effective);
  const queryKey = JSON.stringify(query);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ mode: 'new' } | { mode: 'edit'; record: CommunicationView } | null>(null);
  const reasons = useLoad((signal) => getJson<{ items: TagView[] }>('/reasons', undefined, signal), []);
  const areas = useLoad((signal) => getJson<{ items: TagView[] }>('/areas', undefined, signal), []);
  const list = usePagedList<CommunicationView, CommunicationPage>(`/clients/${clientId}/communications`, { ...query, limit: 100 }, [clientId, queryKey]);

  const items = list.items;
  const selected = items.find((r) => r.id === selectedId) ?? null;
  const set = (key: keyof Filters) => (event: Event) => setFilters({ ...filters, [key]: (event.currentTarget as HTMLInputElement).value });
  const replace = (record: CommunicationView) => list.mapItems((r) => (r.id === record.id ? record : r));
  const exportHref = `/api/clients/${clientId}/communications.xlsx${Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : ''}`;
  const activeReasons = reasons.data?.items ?? [];
  const activeAreas = areas.data?.items ?? [];
  const filtered = Object.keys(query).length > 0;

  return (
    <section class="log" aria-labelledby="log-heading">
      <div class="section-head">
        <h2 id="log-heading">{t('client.log.title')}</h2>
        <div class="toolbar">
          <button type="button" class="btn btn-primary" onClick={() => setDialog({ mode: 'new' })}>
            {t('client.log.new')}
          </button>
          <a class="btn" href={exportHref} download>
            {t('client.log.export')}
          </a>
        </div>
      </div>

      <form class="filters" role="search" aria-label={t('client.log.filters')} onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="log-q">{t('client.log.search')}</label>
          <input id="log-q" type="search" value={filters.q} onInput={set('q')} />
        </div>
        <div class="field">
          <label for="log-kind">{t('client.log.kind')}</label>
          <select id="log-kind" value={filters.kind} onChange={set('kind')}>
            <option value="">{t('client.log.all')}</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {t(`client.kind.${k}`)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-reason">{t('client.log.reason')}</label>
          <select id="log-reason" value={filters.reasonId} onChange={set('reasonId')}>
            <option value="">{t('client.log.all')}</option>
            {activeReasons.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-area">{t('client.log.area')}</label>
          <select id="log-area" value={filters.areaId} onChange={set('areaId')}>
            <option value="">{t('client.log.all')}</option>
            {activeAreas.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-initiated">{t('client.log.initiatedBy')}</label>
          <select id="log-initiated" value={filters.initiatedBy} onChange={set('initiatedBy')}>
            <option value="">{t('client.log.all')}</option>
            <option value="client">{t('client.log.byClient')}</option>
            <option value="firm">{t('client.log.byFirm')}</option>
          </select>
        </div>
        <div class="field">
          <label for="log-from">{t('client.log.from')}</label>
          <input id="log-from" type="date" value={filters.from} onInput={set('from')} />
        </div>
        <div class="field">
          <label for="log-to">{t('client.log.to')}</label>
          <input id="log-to" type="date" value={filters.to} onInput={set('to')} />
        </div>
        {filtered && (
          <button type="button" class="btn btn-ghost" onClick={() => setFilters(noFilters)}>
            {t('client.log.clear')}
          </button>
        )}
      </form>

      <ErrorAlert error={list.error} />
      <div class={`log-layout${selected ? ' log-layout-detail' : ''}`}>
        <div class="table-wrap">
          <table class="table log-table">
            <caption class="visually-hidden">{t('client.log.caption', { name: clientName })}</caption>
            <thead>
              <tr>
                <th scope="col">
                  <span class="visually-hidden">{t('client.log.kind')}</span>
                </th>
                <th scope="col">{t('client.log.date')}</th>
                <th scope="col">{t('client.log.subject')}</th>
                <th scope="col">{t('client.log.reason')}</th>
                <th scope="col">{t('client.log.area')}</th>
                <th scope="col">{t('client.log.initiatedBy')}</th>
                <th scope="col">{t('client.log.author')}</th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {items.map((r) => (
                <tr key={r.id} class={r.id === selectedId ? 'row-selected' : undefined}>
                  <td>
                    <KindIcon kind={r.kind} />
                  </td>
                  <td class="nowrap">{formatDate(r.occurredAt, { dateStyle: 'short', timeStyle: 'short' })}</td>
                  <td>
                    <button type="button" class="link-button" data-record={r.id} aria-expanded={r.id === selectedId} aria-controls="log-detail" onClick={() => setSelectedId(r.id === selectedId ? null : r.id)}>
                      {r.subject || t('client.log.noSubject')}
                    </button>
                  </td>
                  <td>{r.reason?.name ?? '—'}</td>
                  <td>{r.area?.name ?? '—'}</td>
                  <td>{initiator(t, r)}</td>
                  <td>{r.author?.name ?? (r.kind === 'email' ? t('client.log.filedAuto') : '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data && items.length === 0 && <p class="empty-row muted">{filtered ? t('client.log.noMatch') : t('client.log.empty')}</p>}
          <LoadMoreButton list={list} label={t('client.loadMore')} />
        </div>
        {selected && (
          <LogDetail
            key={selected.id}
            record={selected}
            reasons={activeReasons}
            areas={activeAreas}
            onChanged={replace}
            onEdit={() => setDialog({ mode: 'edit', record: selected })}
            onDeleted={() => {
              setSelectedId(null);
              list.reload();
            }}
            onClose={() => {
              setSelectedId(null);
              // Back to the row the pane was opened from, so keyboard users keep their place.
              requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-record="${selected.id}"]`)?.focus());
            }}
          />
        )}
      </div>
      {dialog && (
        <RecordDialog
          clientId={clientId}
          record={dialog.mode === 'edit' ? dialog.record : null}
          reasons={activeReasons}
          areas={activeAreas}
          onClose={() => setDialog(null)}
          onSaved={(record) => {
            setDialog(null);
            setSelectedId(record.id);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

/** A tag select that keeps showing a record's tag even when it has since been deactivated. */
function TagSelect({ id, label, value, options, onChange, disabled }: { id: string; label: string; value: { id: string; name: string } | null; options: TagView[]; onChange: (id: string | null) => void; disabled?: boolean }) {
  const { t } = useI18n();
  const all = value && !options.some((o) => o.id === value.id) ? [...options, { id: value.id, name: value.name }] : options;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value?.id ?? ''} disabled={disabled} onChange={(e) => onChange(e.currentTarget.value || null)}>
        <option value="">{t('client.log.none')}</option>
        {all.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function LogDetail({ record, reasons, areas, onChanged, onEdit, onDeleted, onClose }: {
  record: CommunicationView; reasons: TagView[]; areas: TagView[]; onChanged: (r: CommunicationView) => void; onEdit: () => void; onDeleted: () => void; onClose: () => void;
}) {
  const { t, formatDate, formatNumber } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const pane = useRef<HTMLElement>(null);
  useEffect(() => {
    // On a narrow screen the pane sits above the table (see client-settings.css): bring it into view.
    if (window.matchMedia('(max-width: 900px)').matches) pane.current?.scrollIntoView({ block: 'nearest' });
  }, []);
  const tag = async (change: { reasonId?: string | null; areaId?: string | null }) => {
    setSaved(false);
    if (await action.run(async () => onChanged(await patchJson<CommunicationView>(`/communications/${record.id}`, change)))) setSaved(true);
  };
  const onDelete = async () => {
    const question = record.kind === 'email' ? t('client.log.deleteEmailConfirm') : t('client.log.deleteConfirm');
    if (!window.confirm(question)) return;
    if (await action.run(() => deleteJson(`/communications/${record.id}`))) onDeleted();
  };
  return (
    <aside id="log-detail" ref={pane} class="log-detail card" aria-labelledby="log-detail-title">
      <div class="section-head">
        <h3 id="log-detail-title">
          <KindIcon kind={record.kind} /> {record.subject || t('client.log.noSubject')}
        </h3>
        <button type="button" class="btn btn-ghost btn-small" onClick={onClose}>
          {t('client.close')}
        </button>
      </div>
      <dl class="details">
        <dt>{t('client.log.kind')}</dt>
        <dd>{t(`client.kind.${record.kind}`)}</dd>
        <dt>{t('client.log.date')}</dt>
        <dd>{formatDate(record.occurredAt, { dateStyle: 'full', timeStyle: 'short' })}</dd>
        <dt>{t('client.log.initiatedBy')}</dt>
        <dd>{initiator(t, record)}</dd>
        {record.from && (
          <>
            <dt>{t('client.log.sender')}</dt>
            <dd>{record.from.name ? `${record.from.name} <${record.from.address}>` : record.from.address}</dd>
          </>
        )}
        <dt>{t('client.log.author')}</dt>
        <dd>{record.author?.name ?? (record.filedBy === 'auto' ? t('client.log.filedAuto') : '—')}</dd>
        <dt>{t('client.log.recorded')}</dt>
        <dd>{formatDate(record.createdAt, { dateStyle: 'medium', timeStyle: 'short' })}</dd>
      </dl>
      {record.notes && <p class="notes">{record.notes}</p>}
      {record.attachments.length > 0 && (
        <>
          <h4>{t('client.log.attachments')}</h4>
          <ul class="plain-list">
            {record.attachments.map((a) => (
              <li key={a.id}>
                <a href={`/api/attachments/${a.id}`} download={a.filename}>
                  {a.filename}
                </a>{' '}
                <span class="muted">{t('client.size', { size: formatNumber(a.size / 1024, { maximumFractionDigits: 0 }) })}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {record.messageId && (
        <p>
          <a href={messageHref(record.messageId)}>{t('client.log.openEmail')}</a>
        </p>
      )}
      <div class="form tag-form">
        <TagSelect id="detail-reason" label={t('client.log.reason')} value={record.reason} options={reasons} onChange={(id) => tag({ reasonId: id })} disabled={action.busy} />
        <TagSelect id="detail-area" label={t('client.log.area')} value={record.area} options={areas} onChange={(id) => tag({ areaId: id })} disabled={action.busy} />
        {saved && (
          <p role="status" class="muted">
            {t('client.saved')}
          </p>
        )}
      </div>
      <ErrorAlert error={action.error} />
      <div class="toolbar">
        <FollowUpButton subject={record.subject} links={{ communicationId: record.id }} />
        {record.kind !== 'email' && (
          <button type="button" class="btn" onClick={onEdit}>
            {t('client.edit')}
          </button>
        )}
        <button type="button" class="btn btn-danger" onClick={onDelete} disabled={action.busy}>
          {t('client.log.delete')}
        </button>
      </div>
    </aside>
  );
}

function RecordDialog({ clientId, record, reasons, areas, onClose, onSaved }: {
  clientId: string; record: CommunicationView | null; reasons: TagView[]; areas: TagView[]; onClose: () => void; onSaved: (r: CommunicationView) => void;
}) {
  const { t } = useI18n();
  const [kind, setKind] = useState<ManualKind>(record && record.kind !== 'email' ? record.kind : 'call');
  const [subject, setSubject] = useState(record?.subject ?? '');
  const [occurredAt, setOccurredAt] = useState(toLocalInput(record?.occurredAt ?? new Date()));
  const [initiatedBy, setInitiatedBy] = useState<'client' | 'firm'>(record?.initiatedBy ?? 'client');
  const [reasonId, setReasonId] = useState(record?.reason?.id ?? '');
  const [areaId, setAreaId] = useState(record?.area?.id ?? '');
  const [notes, setNotes] = useState(record?.notes ?? '');
  const [missing, setMissing] = useState(false);
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!subject.trim()) return setMissing(true);
    setMissing(false);
    const when = new Date(occurredAt);
    const body = {
      kind, subject: subject.trim(), initiatedBy, notes,
      occurredAt: Number.isNaN(when.getTime()) ? undefined : when.toISOString(),
      reasonId: reasonId || null, areaId: areaId || null,
    };
    await action.run(async () => {
      const saved = record ? await patchJson<CommunicationView>(`/communications/${record.id}`, body) : await postJson<CommunicationView>(`/clients/${clientId}/communications`, body);
      onSaved(saved);
    });
  };
  return (
    <Dialog title={record ? t('client.log.editTitle') : t('client.log.new')} onClose={onClose}>
      <form class="form form-grid" noValidate onSubmit={onSubmit}>
        <ErrorAlert error={action.error} />
        <div class="field">
          <label for="record-kind">{t('client.log.kind')}</label>
          <select id="record-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as ManualKind)}>
            {manualKinds.map((k) => (
              <option key={k} value={k}>
                {t(`client.kind.${k}`)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="record-when">{t('client.log.date')}</label>
          <input id="record-when" type="datetime-local" value={occurredAt} onInput={(e) => setOccurredAt(e.currentTarget.value)} />
        </div>
        <div class="field field-wide">
          <label for="record-subject">{t('client.log.subject')}</label>
          <input id="record-subject" type="text" value={subject} autoFocus aria-invalid={missing || undefined} onInput={(e) => setSubject(e.currentTarget.value)} />
          {missing && <p class="field-error">{t('client.log.subjectRequired')}</p>}
        </div>
        <div class="field">
          <label for="record-initiated">{t('client.log.initiatedBy')}</label>
          <select id="record-initiated" value={initiatedBy} onChange={(e) => setInitiatedBy(e.currentTarget.value as 'client' | 'firm')}>
            <option value="client">{t('client.log.byClient')}</option>
            <option value="firm">{t('client.log.byFirm')}</option>
          </select>
        </div>
        <div class="field">
          <label for="record-reason">{t('client.log.reason')}</label>
          <select id="record-reason" value={reasonId} onChange={(e) => setReasonId(e.currentTarget.value)}>
            <option value="">{t('client.log.none')}</option>
            {reasons.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="record-area">{t('client.log.area')}</label>
          <select id="record-area" value={areaId} onChange={(e) => setAreaId(e.currentTarget.value)}>
            <option value="">{t('client.log.none')}</option>
            {areas.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field field-wide">
          <label for="record-notes">{t('client.notes')}</label>
          <textarea id="record-notes" rows={4} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        </div>
        <div class="dialog-actions field-wide">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {t('client.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
