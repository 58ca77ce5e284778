// Sync state of one mailbox (B3): running/idle, progress, counts, last success and the last error in
// plain words; refreshed live by `sync.status` events and "Sync now".
import { Alert, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core';
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
    if (e.type === 'sync.status' && (e.data?.mailboxId === mailboxId || !e.data?.mailboxId)) {
      // The event usually carries the new status itself; use it at once, then refetch.
      if (e.data?.mailboxId === mailboxId && e.data?.status && typeof e.data.status === 'object') qc.setQueryData(['sync-status', mailboxId], e.data.status);
      void qc.invalidateQueries({ queryKey: ['sync-status', mailboxId] });
    }
  });
  return useQuery({
    queryKey: ['sync-status', mailboxId],
    queryFn: () => get<SyncStatus>(`/api/mailboxes/${mailboxId}/sync-status`),
    refetchInterval: (q) => (isRunning(q.state.data) ? 3000 : 30_000),
  });
}

export function isRunning(s: SyncStatus | undefined): boolean {
  if (!s) return false;
  const st = (s.state ?? s.status ?? '').toLowerCase();
  return !!s.running || st === 'syncing' || st === 'running' || st === 'initial' || st === 'queued';
}

function progressOf(s: SyncStatus): { pct: number | null; label: string | null } {
  const p = s.progress;
  if (p == null) return { pct: null, label: null };
  if (typeof p === 'number') return { pct: p <= 1 ? p * 100 : p, label: null };
  if (p.total) return { pct: ((p.done ?? 0) / p.total) * 100, label: `${p.done ?? 0} / ${p.total}${p.folder ? ` · ${p.folder}` : ''}` };
  return { pct: null, label: p.folder ?? null };
}

export function errorMessageOf(s: SyncStatus): string | null {
  if (!s.lastError) return null;
  return typeof s.lastError === 'string' ? s.lastError : s.lastError.message;
}

export function SyncStatusBadge({ status }: { status: SyncStatus | undefined }) {
  const t = useT();
  if (!status) return null;
  const running = isRunning(status);
  const st = (status.state ?? status.status ?? '').toLowerCase();
  const color = running ? 'blue' : st === 'error' || st === 'failed' ? 'red' : errorMessageOf(status) && !status.lastSuccessAt ? 'red' : 'teal';
  const label = running ? t('sync.running') : st === 'error' || st === 'failed' ? t('sync.error') : status.lastSuccessAt ? t('sync.upToDate') : t('sync.waiting');
  return (
    <Badge color={color} variant="light" data-testid="sync-badge">
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
  const { pct, label } = s ? progressOf(s) : { pct: null, label: null };
  const counts: [string, number][] = s ? Object.entries(s.counts ?? {}).filter(([, v]) => typeof v === 'number') : [];
  if (s && !counts.length) {
    if (typeof s.messages === 'number') counts.push(['messages', s.messages]);
    if (typeof s.folders === 'number') counts.push(['folders', s.folders]);
  }
  const err = s ? errorMessageOf(s) : null;
  const errAt = s && typeof s.lastError === 'object' && s.lastError ? s.lastError.at : s?.lastErrorAt;
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
      ) : (
        <Stack gap="sm">
          {s && isRunning(s) && (
            <div>
              <Progress value={pct ?? 100} animated striped={pct === null} size="md" />
              {label && (
                <Text size="xs" c="dimmed" mt={4}>
                  {label}
                </Text>
              )}
            </div>
          )}
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            {counts.map(([k, v]) => (
              <div key={k}>
                <Text size="xl" fw={700}>
                  {v.toLocaleString(lang)}
                </Text>
                <Text size="xs" c="dimmed" tt="capitalize">
                  {t(`sync.count.${k}` as never) === `sync.count.${k}` ? k : t(`sync.count.${k}` as never)}
                </Text>
              </div>
            ))}
            <div>
              <Text size="sm" fw={600}>
                {formatDateTime(s?.lastSuccessAt ?? s?.lastSyncAt, lang)}
              </Text>
              <Text size="xs" c="dimmed">
                {t('sync.lastSuccess')}
              </Text>
            </div>
          </SimpleGrid>
          {err && (
            <Alert color="red" variant="light" title={t('sync.lastError') + (errAt ? ` · ${formatDateTime(errAt, lang)}` : '')} data-testid="sync-error">
              {err}
            </Alert>
          )}
        </Stack>
      )}
    </Card>
  );
}
