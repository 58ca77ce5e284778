// Cursor-paged lists: every list route answers { items, nextCursor }. One hook holds the query and
// its rows so far, one button asks for the next page — instead of the same dozen lines per page.
import type { ReactNode } from 'react';
import { Button, Group, Text } from '@mantine/core';
import { useInfiniteQuery, type QueryKey } from '@tanstack/react-query';
import { get, qs, type Page } from '../api/client.js';
import { useT } from '../i18n/index.js';
import { ErrorState, Loading } from './common.js';

type Params = Record<string, string | number | boolean | null | undefined>;

/** GET `path` with `params`, `limit` (default 50) and the cursor of the page before. */
export function usePagedList<T, P extends Page<T> = Page<T>>(
  queryKey: QueryKey,
  path: string,
  params: Params = {},
  opts: { limit?: number; enabled?: boolean; refetchInterval?: number } = {},
) {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => get<P>(qs(path, { ...params, limit: opts.limit ?? 50, cursor: pageParam })),
    initialPageParam: '' as string,
    getNextPageParam: (p) => p.nextCursor ?? undefined,
    enabled: opts.enabled,
    refetchInterval: opts.refetchInterval,
  });
  return { query, rows: query.data?.pages.flatMap((p) => p.items) ?? [] };
}

/** "Load more" under a paged list; nothing when there is no next page. */
export function LoadMore({ list, testId, size }: { list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown }; testId?: string; size?: 'xs' | 'sm' }) {
  const t = useT();
  if (!list.hasNextPage) return null;
  return (
    <Group justify="center" p="sm">
      <Button variant="subtle" size={size} loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()} data-testid={testId}>
        {t('common.loadMore')}
      </Button>
    </Group>
  );
}

/** A list's body: loading, the error in words, a quiet "none", or the rows (children). */
export function ListBody({ query, empty, emptyText, children }: { query: { isLoading: boolean; error: unknown }; empty: boolean; emptyText?: ReactNode; children: ReactNode }) {
  const t = useT();
  if (query.isLoading) return <Loading />;
  if (query.error) return <ErrorState error={query.error} />;
  if (empty)
    return (
      <Text c="dimmed" p="md">
        {emptyText ?? t('common.none')}
      </Text>
    );
  return <>{children}</>;
}
