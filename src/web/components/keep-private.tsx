// "Keep private" in the message view (issue 12): shown only to the owner of a private mailbox holding the
// message. Keeping it private takes it out of every client log for good; undoing files it again.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { PrivacyState, PrivateResult } from '../../server/schemas/filing-approvals.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useAction, useLoad } from './client-ui.tsx';

export function KeepPrivateButton({ messageId, onChange }: { messageId: string; onChange: () => void }) {
  const { t } = useI18n();
  const state = useLoad((signal) => getJson<Static<typeof PrivacyState>>(`/messages/${messageId}/private`, undefined, signal), [messageId]);
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);
  if (!state.data?.canChange) return null;
  const kept = state.data.private;
  const toggle = async () => {
    if (!kept && !window.confirm(t('message.keepPrivateConfirm'))) return;
    await action.run(async () => {
      const result = await postJson<Static<typeof PrivateResult>>(`/messages/${messageId}/private`, { private: !kept });
      state.setData({ ...state.data!, private: result.private });
      setDone(result.private ? t('message.keptPrivate') : t('message.notPrivate'));
      onChange();
    });
  };
  return (
    <>
      <button type="button" class="btn btn-small" aria-pressed={kept} disabled={action.busy} onClick={toggle}>
        {kept ? t('message.stopKeepingPrivate') : t('message.keepPrivate')}
      </button>
      {done && <span class="visually-hidden" role="status">{done}</span>}
      <ErrorAlert error={action.error} />
    </>
  );
}
