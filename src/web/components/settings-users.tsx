// Settings → users (administrators): the firm's staff, their role and whether they may sign in, and
// adding a user with a first password (they change it themselves afterwards).
import { useState } from 'preact/hooks';
import type { User } from '../api.ts';
import { getJson, patchJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { useUser } from '../session.tsx';
import { Dialog, ErrorAlert, Switch, useAction, useLoad } from './client-ui.tsx';

export function SettingsUsers() {
  const { t } = useI18n();
  const list = useLoad((signal) => getJson<{ items: User[] }>('/users', undefined, signal), []);
  const [adding, setAdding] = useState(false);
  return (
    <section id="settings-users" class="card" aria-labelledby="settings-users-heading">
      <div class="section-head">
        <h2 id="settings-users-heading">{t('settings.users.title')}</h2>
        <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
          {t('settings.users.add')}
        </button>
      </div>
      <ErrorAlert error={list.error} />
      <div class="table-wrap">
        <table class="table table-compact">
          <thead>
            <tr>
              <th scope="col">{t('settings.name')}</th>
              <th scope="col">{t('settings.email')}</th>
              <th scope="col">{t('settings.role')}</th>
              <th scope="col">{t('settings.users.active')}</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((u) => (
              <UserRow key={u.id} user={u} onChanged={list.reload} />
            ))}
          </tbody>
        </table>
      </div>
      {adding && (
        <AddUserDialog
          onClose={() => setAdding(false)}
          onAdded={() => {
            setAdding(false);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function UserRow({ user, onChanged }: { user: User; onChanged: () => void }) {
  const { t } = useI18n();
  const me = useUser();
  const action = useAction();
  const self = me.id === user.id;
  const [active, setActive] = useState(user.active);
  const patch = (change: Partial<Pick<User, 'role' | 'active'>>) => action.run(async () => {
    await patchJson(`/users/${user.id}`, change);
    onChanged();
  });
  return (
    <tr>
      <td>{user.name}</td>
      <td>{user.email}</td>
      <td>
        <label for={`role-${user.id}`} class="visually-hidden">
          {t('settings.users.roleOf', { name: user.name })}
        </label>
        <select id={`role-${user.id}`} value={user.role} disabled={self || action.busy} onChange={(e) => patch({ role: e.currentTarget.value as User['role'] })}>
          <option value="staff">{t('userMenu.role.staff')}</option>
          <option value="admin">{t('userMenu.role.admin')}</option>
        </select>
      </td>
      <td>
        <Switch
          label={active ? t('settings.users.canSignIn') : t('settings.users.blocked')}
          checked={active}
          disabled={self || action.busy}
          onChange={async (on) => {
            setActive(on);
            if (!(await patch({ active: on }))) setActive(!on);
          }}
        />
        <ErrorAlert error={action.error} />
      </td>
    </tr>
  );
}

function AddUserDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<User['role']>('staff');
  const [invalid, setInvalid] = useState(false);
  const action = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!name.trim() || !/^[^\s@]+@[^\s@]+$/.test(email.trim()) || password.length < 12) return setInvalid(true);
    setInvalid(false);
    if (await action.run(() => postJson('/users', { name: name.trim(), email: email.trim(), password, role }))) onAdded();
  };
  return (
    <Dialog title={t('settings.users.add')} onClose={onClose}>
      <form class="form" noValidate onSubmit={onSubmit}>
        <div class="field">
          <label for="user-name">{t('settings.name')}</label>
          <input id="user-name" type="text" value={name} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="user-email">{t('settings.email')}</label>
          <input id="user-email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="user-password">{t('settings.users.password')}</label>
          <input id="user-password" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} aria-describedby="user-password-help" />
          <p id="user-password-help" class="muted small">
            {t('settings.users.passwordHelp')}
          </p>
        </div>
        <div class="field">
          <label for="user-role">{t('settings.role')}</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.currentTarget.value as User['role'])}>
            <option value="staff">{t('userMenu.role.staff')}</option>
            <option value="admin">{t('userMenu.role.admin')}</option>
          </select>
        </div>
        {invalid && (
          <p class="field-error" role="alert">
            {t('settings.users.invalid')}
          </p>
        )}
        <ErrorAlert error={action.error} />
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {t('settings.users.create')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
