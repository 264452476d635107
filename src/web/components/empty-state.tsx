// What a list or page shows while it has nothing yet: an icon and one sentence.
import type { IconName } from './icon.tsx';
import { Icon } from './icon.tsx';

export function EmptyState({ icon, text }: { icon: IconName; text: string }) {
  return (
    <div class="empty-state">
      <Icon name={icon} size={32} />
      <p>{text}</p>
    </div>
  );
}
