// The client overview's open tasks (anyone's), soonest due first, with "New task" for this client.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { TaskPage } from '../../server/schemas/tasks.ts';
import { getJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useLoad } from './client-ui.tsx';
import { TaskDialog } from './task-form.tsx';

export function ClientTasks({ clientId }: { clientId: string }) {
  const { t, formatDate } = useI18n();
  const [creating, setCreating] = useState(false);
  const tasks = useLoad((signal) => getJson<Static<typeof TaskPage>>('/tasks', { clientId, status: 'open', limit: 20 }, signal), [clientId]);
  return (
    <section class="card" aria-labelledby="client-tasks-heading">
      <div class="section-head">
        <h2 id="client-tasks-heading">{t('tasks.clientTitle')}</h2>
        <button type="button" class="btn" onClick={() => setCreating(true)}>
          {t('tasks.new')}
        </button>
      </div>
      <ErrorAlert error={tasks.error} />
      {tasks.data && tasks.data.items.length === 0 && <p class="muted">{t('tasks.clientEmpty')}</p>}
      <ul class="plain-list">
        {tasks.data?.items.map((task) => (
          <li key={task.id}>
            <a href={`/tasks?task=${task.id}`}>{task.title}</a>
            <span class="muted">
              {' · '}
              {task.assignee.name}
              {task.dueAt ? ` · ${formatDate(task.dueAt, { dateStyle: 'medium', timeStyle: 'short' })}` : ''}
            </span>
          </li>
        ))}
      </ul>
      {creating && (
        <TaskDialog
          title={t('tasks.new')}
          links={{ clientId }}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            tasks.reload();
          }}
        />
      )}
    </section>
  );
}
