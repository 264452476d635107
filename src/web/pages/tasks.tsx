// My tasks: the caller's follow-ups, open ones by due time (overdue marked), done ones after; tick to finish,
// reopen, delete; New task; and the calendar subscription (a secret feed URL). ?task=<id> highlights one task
// (the link notifications and the calendar use). No fetch outside api.ts helpers.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { CalendarFeedCreated, TaskPage } from '../../server/schemas/tasks.ts';
import { deleteJson, patchJson, postJson } from '../api.ts';
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { ErrorAlert, useAction } from '../components/client-ui.tsx';
import { usePagedList } from '../components/use-paged-list.tsx';
import { TaskDialog, type Task } from '../components/task-form.tsx';
import { notifyTaskCountChanged } from '../components/task-count.ts';
import { useI18n } from '../i18n/context.tsx';
import '../styles/client-settings.css';
import { FilterButtons } from '../components/filter-buttons.tsx';

const FILTERS = ['open', 'done'] as const;
type Filter = (typeof FILTERS)[number];

function CalendarFeed() {
  const { t } = useI18n();
  const [url, setUrl] = useState<string | null>(null);
  const action = useAction();
  return (
    <section class="card calendar-feed" aria-labelledby="calendar-feed-title">
      <h2 id="calendar-feed-title">{t('tasks.calendar.title')}</h2>
      <p class="muted">{t('tasks.calendar.help')}</p>
      {url && (
        <label class="field">
          <span>{t('tasks.calendar.url')}</span>
          <input readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        </label>
      )}
      <ErrorAlert error={action.error} />
      <button
        type="button"
        class="btn"
        disabled={action.busy}
        onClick={() => void action.run(async () => setUrl((await postJson<Static<typeof CalendarFeedCreated>>('/me/calendar-feed')).url))}
      >
        {url ? t('tasks.calendar.rotate') : t('tasks.calendar.create')}
      </button>
      {url && <p class="muted">{t('tasks.calendar.rotateHelp')}</p>}
    </section>
  );
}

export default function TasksPage() {
  const { t, formatDate } = useI18n();
  const { query } = useLocation();
  const [filter, setFilter] = useState<Filter>('open');
  const [creating, setCreating] = useState(false);
  const list = usePagedList<Task, Static<typeof TaskPage>>('/tasks', { assignee: 'me', status: filter, limit: 100 }, [filter]);
  const action = useAction();
  const now = Date.now();

  const change = (task: Task, patch: Record<string, unknown>) => action.run(async () => {
    await patchJson(`/tasks/${task.id}`, patch);
    list.reload();
    notifyTaskCountChanged();
  });
  const remove = (task: Task) => action.run(async () => {
    if (!window.confirm(t('tasks.confirmDelete', { title: task.title }))) return;
    await deleteJson(`/tasks/${task.id}`);
    list.reload();
    notifyTaskCountChanged();
  });

  return (
    <>
      <PageHeader title={t('tasks.title')}>
        <div class="toolbar">
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            {t('tasks.new')}
          </button>
        </div>
      </PageHeader>
      <FilterButtons label={t('tasks.filter')} filters={FILTERS} value={filter} onChange={setFilter} labelOf={(f) => t(`tasks.filters.${f}`)} />
      <ErrorAlert error={list.error ?? list.loadMoreError ?? action.error} />
      {list.data && list.items.length === 0 ? (
        <EmptyState icon="tasks" text={t(filter === 'open' ? 'tasks.empty' : 'tasks.emptyDone')} />
      ) : (
        <div class="table-wrap">
          <table class="table tasks-table">
            <caption class="visually-hidden">{t('tasks.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('tasks.fields.done')}</th>
                <th scope="col">{t('tasks.fields.title')}</th>
                <th scope="col">{t('tasks.fields.client')}</th>
                <th scope="col">{t('tasks.fields.due')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('tasks.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {list.items.map((task) => {
                const overdue = task.status === 'open' && task.dueAt !== null && new Date(task.dueAt).getTime() <= now;
                return (
                  <tr key={task.id} class={query.task === task.id ? 'row-highlight' : undefined} data-task-id={task.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={t('tasks.markDone', { title: task.title })}
                        checked={task.status === 'done'}
                        disabled={action.busy}
                        onChange={(e) => void change(task, { status: e.currentTarget.checked ? 'done' : 'open' })}
                      />
                    </td>
                    <td>
                      <strong>{task.title}</strong>
                      {task.notes && <div class="muted task-notes">{task.notes}</div>}
                      {task.messageId && (
                        <div>
                          <a href={`/inbox/${task.messageId}`}>{t('tasks.openMessage')}</a>
                        </div>
                      )}
                      {task.communicationId && task.client && (
                        <div>
                          <a href={`/clients/${task.client.id}/log`}>{t('tasks.openRecord')}</a>
                        </div>
                      )}
                    </td>
                    <td>{task.client ? <a href={`/clients/${task.client.id}`}>{task.client.name}</a> : '—'}</td>
                    <td>
                      {task.dueAt ? formatDate(task.dueAt, { dateStyle: 'medium', timeStyle: 'short' }) : '—'}
                      {overdue && <span class="badge badge-warn"> {t('tasks.overdue')}</span>}
                    </td>
                    <td>
                      <button type="button" class="btn btn-ghost btn-small" disabled={action.busy} onClick={() => void remove(task)}>
                        {t('tasks.delete')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.hasMore && (
        <button type="button" class="btn" disabled={list.loadingMore} onClick={() => void list.loadMore()}>
          {t('tasks.more')}
        </button>
      )}
      <CalendarFeed />
      {creating && (
        <TaskDialog
          title={t('tasks.new')}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
    </>
  );
}
