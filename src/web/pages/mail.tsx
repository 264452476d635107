// Inbox+ and the message view under /inbox and /inbox/:id: on screens 1200 px wide and more the list and the
// open message side by side (the reading pane, j/k move and show); narrower, list → message as two pages.
// A message opened from elsewhere (?back=, a client's tab) keeps its own page so Back returns there.
import { useEffect, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import InboxPage from './inbox.tsx';
import MessagePage from './message.tsx';

const WIDE = '(min-width: 1200px)';

function useWideScreen(): boolean {
  const [wide, setWide] = useState(() => window.matchMedia(WIDE).matches);
  useEffect(() => {
    const media = window.matchMedia(WIDE);
    const onChange = () => setWide(media.matches);
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, []);
  return wide;
}

export default function MailPage() {
  const { params } = useRoute();
  const { query } = useLocation();
  const wide = useWideScreen();
  const id = params.id || null;
  if (id && (!wide || query.back)) return <MessagePage />;
  return <InboxPage pane={wide} selectedId={id} />;
}
