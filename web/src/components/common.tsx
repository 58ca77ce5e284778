// Small building blocks shared by the pages: page header, error alert, mutation with toasts,
// "not available yet" state for APIs that answer 404, confirmation before destructive actions.
import type { ReactNode } from 'react';
import { Alert, Group, Loader, Center, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { modals } from '@mantine/modals';
import { ApiError, errorText } from '../api/client.js';
import { useT } from '../i18n/index.js';

export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="nowrap">
      <Stack gap={2}>
        <Title order={2}>{title}</Title>
        {description && (
          <Text c="dimmed" size="sm">
            {description}
          </Text>
        )}
      </Stack>
      {actions && <Group gap="xs">{actions}</Group>}
    </Group>
  );
}

export function Loading() {
  return (
    <Center py="xl">
      <Loader size="sm" />
    </Center>
  );
}

export function ErrorState({ error }: { error: unknown }) {
  const t = useT();
  if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND' && /No route/.test(error.message)) {
    return (
      <Alert color="gray" title={t('common.notAvailable')}>
        {t('common.notAvailableText')}
      </Alert>
    );
  }
  return (
    <Alert color="red" title={t('common.error')}>
      {errorText(error)}
    </Alert>
  );
}

export function notifyError(e: unknown) {
  notifications.show({ color: 'red', title: undefined, message: errorText(e), autoClose: 8000 });
}
export function notifyOk(message: string) {
  notifications.show({ color: 'teal', message, autoClose: 3000 });
}

/** A mutation that refreshes `invalidate` keys and reports the outcome. */
export function useApiMutation<V, R = unknown>(
  fn: (v: V) => Promise<R>,
  opts: { invalidate?: QueryKey[]; success?: string; onSuccess?: (r: R, v: V) => void; onError?: (e: unknown) => void } = {},
) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async (r, v) => {
      for (const k of opts.invalidate ?? []) await qc.invalidateQueries({ queryKey: k });
      if (opts.success) notifyOk(opts.success);
      opts.onSuccess?.(r, v);
    },
    onError: (e) => {
      if (opts.onError) opts.onError(e);
      else notifyError(e);
    },
  });
}

export function confirmAction(opts: { title: string; message: string; confirm: string; cancel: string; danger?: boolean; onConfirm: () => void }) {
  modals.openConfirmModal({
    title: opts.title,
    children: <Text size="sm">{opts.message}</Text>,
    labels: { confirm: opts.confirm, cancel: opts.cancel },
    confirmProps: opts.danger ? { color: 'red' } : undefined,
    onConfirm: opts.onConfirm,
  });
}
