// Navigates elsewhere as soon as it renders (replacing the history entry, so Back does not bounce).
import { useEffect } from 'preact/hooks';
import { useLocation } from 'preact-iso';

export function Redirect({ to }: { to: string }) {
  const { route } = useLocation();
  useEffect(() => route(to, true), [to, route]);
  return null;
}
