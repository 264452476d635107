// What a list or page shows while it has nothing yet: an icon and one sentence.
import type { ComponentChildren } from 'preact';
import type { IconName } from './icon.tsx';
import { Icon } from './icon.tsx';

/** `children`: what to do next (a link), under the sentence. */
export function EmptyState({ icon, text, children }: { icon: IconName; text: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state">
      <Icon name={icon} size={32} />
      <p>{text}</p>
      {children}
    </div>
  );
}
