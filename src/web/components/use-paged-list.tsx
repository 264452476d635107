// A cursor-paged list (first page on load, "load more" appends the next) and its load-more button.
// Only the paging: each screen keeps its own table, empty state and strings.
import { useState } from 'preact/hooks';
import { getJson } from '../api.ts';
import { useAction, useLoad } from './client-ui.tsx';

type Query = NonNullable<Parameters<typeof getJson>[1]>;
type Page<T> = { items: T[]; nextCursor: string | null };

export type PagedList<T, P extends Page<T>> = {
  /** The first page's items followed by every page loaded since. */
  items: T[];
  /** The first page as the server sent it. */
  data: P | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  hasMore: boolean;
  loadMore: () => Promise<boolean>;
  loadingMore: boolean;
  loadMoreError: unknown;
  /** Replaces items in place (first page and later pages alike), e.g. after an edit. */
  mapItems: (fn: (item: T) => T) => void;
};

/** GET `path` with `query` when `deps` change (back to the first page), and the next page on loadMore(). */
export function usePagedList<T, P extends Page<T> = Page<T>>(path: string, query: Query, deps: unknown[]): PagedList<T, P> {
  const [more, setMore] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useLoad(async (signal) => {
    const page = await getJson<P>(path, query, signal);
    setMore([]);
    setCursor(page.nextCursor);
    return page;
  }, deps);
  const action = useAction();
  return {
    items: [...(list.data?.items ?? []), ...more],
    data: list.data,
    error: list.error,
    loading: list.loading,
    reload: list.reload,
    hasMore: cursor !== null && cursor !== '',
    loadMore: () =>
      action.run(async () => {
        const page = await getJson<P>(path, { ...query, cursor });
        setMore([...more, ...page.items]);
        setCursor(page.nextCursor);
      }),
    loadingMore: action.busy,
    loadMoreError: action.error,
    mapItems: (fn) => {
      if (list.data) list.setData({ ...list.data, items: list.data.items.map(fn) } as P);
      setMore(more.map(fn));
    },
  };
}

/** The "load more" button under a paged table, shown while there is a next page. */
export function LoadMoreButton({ list, label }: { list: { hasMore: boolean; loadingMore: boolean; loadMore: () => unknown }; label: string }) {
  if (!list.hasMore) return null;
  return (
    <p class="load-more">
      <button type="button" class="btn" disabled={list.loadingMore} onClick={() => void list.loadMore()}>
        {label}
      </button>
    </p>
  );
}
