// Sync state of one mailbox (B3): running/idle, progress, counts, last success and the last error in
// plain words; refreshed live by `sync.status` events and "Sync now".
import { Alert, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Text, Title, Tooltip } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../../api/client.js';
import { useRealtimeEvent } from '../../api/realtime.js';
import { ErrorState, useApiMutation } from '../../components/common.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT } from '../../i18n/index.js';
import type { SyncStatus } from './mailboxTypes.js';

export function useSyncStatus(mailboxId: string) {
  const qc = useQueryClient();
  useRealtimeEvent((e) => {
    if (e.type !== 'sync.status') return;
    const d = e.data ?? {};
    if (d.mailboxId && d.mailboxId !== mailboxId) return;
    // The event may carry the whole status; use it at once, then refetch to be sure.
    if (d.mailboxId === mailboxId && typeof d.state === 'string' && d.totals) qc.setQueryData(['sync-status', mailboxId], d);
    void qc.invalidateQueries({ queryKey: ['sync-status', mailboxId] });
  });
  return useQuery({
    queryKey: ['sync-status', mailboxId],
    queryFn: () => get<SyncStatus>(`/api/mailboxes/${mailboxId}/sync-status`),
    refetchInterval: (q) => (q.state.data?.state === 'syncing' ? 3000 : 30_000),
  });
}

export function errorMessageOf(s: SyncStatus): string | null {
  return s.state === 'error' || s.state === 'needs-reauth' || !s.lastSuccessAt || (s.lastErrorAt && s.lastErrorAt > s.lastSuccessAt) ? s.lastError : null;
}

export function SyncStatusBadge({ status }: { status: SyncStatus | undefined }) {
  const t = useT();
  if (!status) return null;
  const map = {
    syncing: ['blue', t('sync.running')],
    error: ['red', t('sync.error')],
    'needs-reauth': ['orange', t('mailbox.needsReauth')],
    idle: status.lastSuccessAt ? ['teal', status.live ? t('sync.live') : t('sync.upToDate')] : ['gray', t('sync.waiting')],
  } as const;
  const [color, label] = map[status.state] ?? map.idle;
  return (
    <Badge color={color} variant="light" data-testid="sync-badge" data-state={status.state}>
      {label}
    </Badge>
  );
}

export function SyncStatusCard({ mailboxId }: { mailboxId: string }) {
  const t = useT();
  const lang = useLanguage();
  const q = useSyncStatus(mailboxId);
  const run = useApiMutation(() => post(`/api/mailboxes/${mailboxId}/sync`), { invalidate: [['sync-status', mailboxId]], success: t('sync.started') });
  const s = q.data;
  const pct = s && s.totals.total > 0 ? Math.min(100, (s.totals.done / s.totals.total) * 100) : null;
  const selected = s?.folders.filter((f) => f.selected) ?? [];
  return (
    <Card withBorder data-testid="sync-status">
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          <Title order={5}>{t('sync.title')}</Title>
          <SyncStatusBadge status={s} />
        </Group>
        <Button size="xs" variant="light" leftSection={<IconRefresh size={14} />} loading={run.isPending} onClick={() => run.mutate(undefined)}>
          {t('sync.now')}
        </Button>
      </Group>
      {q.error ? (
        <ErrorState error={q.error} />
      ) : s ? (
        <Stack gap="sm">
          {(s.state === 'syncing' || (pct !== null && pct < 100)) && (
            <div>
              <Progress value={pct ?? 100} animated={s.state === 'syncing'} size="md" />
              <Text size="xs" c="dimmed" mt={4}>
                {t('sync.progress', { done: s.totals.done.toLocaleString(lang), total: s.totals.total.toLocaleString(lang) })}
              </Text>
            </div>
          )}
          <SimpleGrid cols={3}>
            <div>
              <Text size="xl" fw={700}>
                {s.totals.emails.toLocaleString(lang)}
              </Text>
              <Text size="xs" c="dimmed">
                {t('sync.count.messages')}
              </Text>
            </div>
            <Tooltip label={selected.map((f) => `${f.path}: ${f.done}/${f.total}`).join(' · ') || '—'} multiline maw={360}>
              <div>
                <Text size="xl" fw={700}>
                  {selected.length}
                  <Text span size="sm" c="dimmed">
                    {' '}
                    / {s.folders.length}
                  </Text>
                </Text>
                <Text size="xs" c="dimmed">
                  {t('sync.count.folders')}
                </Text>
              </div>
            </Tooltip>
            <div>
              <Text size="sm" fw={600} mt={6}>
                {formatDateTime(s.lastSuccessAt, lang)}
              </Text>
              <Text size="xs" c="dimmed">
                {t('sync.lastSuccess')}
              </Text>
            </div>
          </SimpleGrid>
          {errorMessageOf(s) && (
            <Alert color="red" variant="light" title={t('sync.lastError') + (s.lastErrorAt ? ` · ${formatDateTime(s.lastErrorAt, lang)}` : '')} data-testid="sync-error">
              {errorMessageOf(s)}
              {s.nextAttemptAt && (
                <Text size="xs" c="dimmed" mt={4}>
                  {t('sync.nextAttempt', { at: formatDateTime(s.nextAttemptAt, lang) })}
                </Text>
              )}
            </Alert>
          )}
        </Stack>
      ) : null}
    </Card>
  );
}
