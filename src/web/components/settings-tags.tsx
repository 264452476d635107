// Settings → reasons, areas and document categories: the firm's managed lists. Everyone adds and renames;
// administrators turn one off or delete it. A tag in use is better turned off than deleted: it stays on old
// records but is no longer offered.
import { useState } from 'preact/hooks';
import type { TagView } from '../../server/schemas/communications.ts';
import { deleteJson, getJson, patchJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, Switch, useAction, useLoad } from './client-ui.tsx';
import { useUser } from '../session.tsx';

type Kind = 'reasons' | 'areas' | 'document-categories';

export function SettingsTags() {
  const { t } = useI18n();
  return (
    <section id="settings-tags" class="card" aria-labelledby="settings-tags-heading">
      <h2 id="settings-tags-heading">{t('settings.tags.title')}</h2>
      <p class="muted">{t('settings.tags.intro')}</p>
      <div class="two-columns">
        <TagList kind="reasons" title={t('settings.tags.reasons')} />
        <TagList kind="areas" title={t('settings.tags.areas')} />
        <TagList kind="document-categories" title={t('settings.tags.categories')} />
      </div>
    </section>
  );
}

function TagList({ kind, title }: { kind: Kind; title: string }) {
  const { t } = useI18n();
  const list = useLoad((signal) => getJson<{ items: TagView[] }>(`/${kind}`, { includeInactive: 'true' }, signal), [kind]);
  const [name, setName] = useState('');
  const add = useAction();
  const onAdd = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) return;
    if (await add.run(() => postJson(`/${kind}`, { name: name.trim() }))) {
      setName('');
      list.reload();
    }
  };
  return (
    <div class="tag-list" aria-labelledby={`tags-${kind}`} role="group">
      <h3 id={`tags-${kind}`}>{title}</h3>
      <ErrorAlert error={list.error} />
      <ul class="plain-list">
        {(list.data?.items ?? []).map((tag) => (
          <TagRow key={tag.id} kind={kind} tag={tag} onChanged={list.reload} />
        ))}
      </ul>
      <form class="toolbar" onSubmit={onAdd}>
        <label for={`new-${kind}`} class="visually-hidden">
          {t(`settings.tags.new.${kind}`)}
        </label>
        <input id={`new-${kind}`} type="text" value={name} placeholder={t(`settings.tags.new.${kind}`)} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="btn" disabled={add.busy || !name.trim()}>
          {t('client.add')}
        </button>
      </form>
      <ErrorAlert error={add.error} />
    </div>
  );
}

function TagRow({ kind, tag, onChanged }: { kind: Kind; tag: TagView; onChanged: () => void }) {
  const { t } = useI18n();
  const admin = useUser().role === 'admin';
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(tag.name);
  const [active, setActive] = useState(tag.active);
  const action = useAction();
  const save = async (event: Event) => {
    event.preventDefault();
    if (await action.run(() => patchJson(`/${kind}/${tag.id}`, { name: name.trim() }))) {
      setEditing(false);
      onChanged();
    }
  };
  const onDelete = async () => {
    if (!window.confirm(t('settings.tags.deleteConfirm', { name: tag.name }))) return;
    if (await action.run(() => deleteJson(`/${kind}/${tag.id}`))) onChanged();
  };
  return (
    <li class="tag-row">
      {editing ? (
        <form class="toolbar" onSubmit={save}>
          <label for={`tag-${tag.id}`} class="visually-hidden">
            {t('settings.tags.name')}
          </label>
          <input id={`tag-${tag.id}`} type="text" value={name} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" class="btn btn-small btn-primary" disabled={!name.trim() || action.busy}>
            {t('client.save')}
          </button>
          <button type="button" class="btn btn-small" onClick={() => setEditing(false)}>
            {t('client.cancel')}
          </button>
        </form>
      ) : (
        <>
          <span class={active ? 'tag-name' : 'tag-name muted'}>{tag.name}</span>
          <Switch
            label={active ? t('settings.tags.active') : t('settings.tags.inactive')}
            checked={active}
            disabled={action.busy || !admin}
            onChange={async (on) => {
              setActive(on);
              if (await action.run(() => patchJson(`/${kind}/${tag.id}`, { active: on }))) onChanged();
              else setActive(!on);
            }}
          />
          <button type="button" class="btn btn-small" onClick={() => setEditing(true)} aria-label={t('settings.tags.renameNamed', { name: tag.name })}>
            {t('client.overview.rename')}
          </button>
          {admin && (
            <button type="button" class="btn btn-small btn-danger" onClick={onDelete} aria-label={t('settings.tags.deleteNamed', { name: tag.name })}>
              {t('client.delete')}
            </button>
          )}
        </>
      )}
      <ErrorAlert error={action.error} />
    </li>
  );
}
