// The task form used by "Follow up" (on a log record or a message) and by My tasks' "New task": title,
// due date and time (the browser's local time, sent as UTC), notes. Creates the task through the API and
// hands the new one back; the caller decides what to show next.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { TaskCreated, TaskView } from '../../server/schemas/tasks.ts';
import { postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction } from './client-ui.tsx';
import { notifyTaskCountChanged } from './task-count.ts';

export type Task = Static<typeof TaskView>;
type Links = { clientId?: string; communicationId?: string; messageId?: string };

/** A `datetime-local` value (local time, minutes) as an ISO instant, or null when empty. */
export const localToIso = (value: string): string | null => (value ? new Date(value).toISOString() : null);

export function TaskDialog({ title, initialTitle = '', links = {}, onClose, onCreated }: {
  title: string; initialTitle?: string; links?: Links; onClose: () => void; onCreated: (task: Task) => void;
}) {
  const { t } = useI18n();
  const [taskTitle, setTaskTitle] = useState(initialTitle);
  const [due, setDue] = useState('');
  const [notes, setNotes] = useState('');
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      const { task } = await postJson<Static<typeof TaskCreated>>('/tasks', { title: taskTitle, dueAt: localToIso(due), notes, ...links });
      notifyTaskCountChanged();
      onCreated(task);
    });
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span>{t('tasks.fields.title')}</span>
          <input name="title" required maxLength={300} value={taskTitle} onInput={(e) => setTaskTitle(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('tasks.fields.due')}</span>
          <input name="due" type="datetime-local" value={due} onInput={(e) => setDue(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('tasks.fields.notes')}</span>
          <textarea name="notes" rows={3} maxLength={20000} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        </label>
        <ErrorAlert error={action.error} />
        <div class="toolbar">
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {t('tasks.create')}
          </button>
          <button type="button" class="btn" onClick={onClose}>
            {t('tasks.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** "Follow up": a task linked to this log record or message; afterwards a link to it in My tasks. */
export function FollowUpButton({ subject, links }: { subject: string; links: Links }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<Task | null>(null);
  return (
    <>
      <button type="button" class="btn btn-small" onClick={() => setOpen(true)}>
        {t('tasks.followUp')}
      </button>
      {created && (
        <span role="status" class="follow-up-done">
          <a href={`/tasks?task=${created.id}`}>{t('tasks.created')}</a>
        </span>
      )}
      {open && (
        <TaskDialog
          title={t('tasks.followUpTitle')}
          initialTitle={subject ? t('tasks.followUpDefault', { subject }) : ''}
          links={links}
          onClose={() => setOpen(false)}
          onCreated={(task) => {
            setOpen(false);
            setCreated(task);
          }}
        />
      )}
    </>
  );
}
