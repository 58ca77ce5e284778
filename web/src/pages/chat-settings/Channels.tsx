// Chat channels (H6): Telegram bots with the token form (verified by the server, webhook or
// long polling), the channel's diagnostic state, active toggle and queue binding. A channel with
// chats cannot be deleted — the server's refusal is shown in plain words with the way out.
import { useState } from 'react';
import { Alert, Badge, Button, Card, Group, Modal, PasswordInput, Select, Stack, Switch, Table, Text, TextInput, ActionIcon, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconBrandTelegram, IconPlus, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { notifications } from '@mantine/notifications';
import { ApiError, del, errorText, fieldErrors, get, patch, post, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, confirmAction, notifyError, useApiMutation } from '../../components/common.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT } from '../../i18n/index.js';
import { useQueues } from './Queues.js';

export interface Channel {
  id: string;
  kind: 'telegram' | 'facebook' | string;
  name: string;
  isActive: boolean;
  queueId: string;
  delivery: 'auto' | 'webhook' | 'polling';
  mode: 'webhook' | 'polling' | null;
  botId: string | null;
  botUsername: string | null;
  lastError: string | null;
  lastCheckedAt: string | null;
  hasToken: boolean;
}

/** The refusal to delete a channel that has chats (CHANNEL_HAS_CHATS; older servers: a 409). */
function isRefusal(e: unknown): e is ApiError {
  return e instanceof ApiError && (e.code === 'CHANNEL_HAS_CHATS' || e.status === 409);
}

interface Diagnostics {
  mode: 'webhook' | 'polling' | null;
  webhookUrl: string | null;
  expectedWebhookUrl: string | null;
  pendingUpdateCount: number | null;
  lastErrorAt: string | null;
  lastError: string | null;
  pollingHolder: string | null;
}

export function ChannelsPage() {
  const t = useT();
  const lang = useLanguage();
  const q = useQuery({ queryKey: ['chat-channels'], queryFn: () => get<Page<Channel>>('/api/chat-channels?limit=200') });
  const queues = useQueues();
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [refusal, setRefusal] = useState<{ channel: Channel; message: string } | null>(null);
  const queueName = (id: string) => queues.data?.items.find((x) => x.id === id)?.name ?? '…';
  const toggle = useApiMutation((c: Channel) => patch(`/api/chat-channels/${c.id}`, { isActive: !c.isActive }), { invalidate: [['chat-channels']] });
  const bind = useApiMutation((v: { c: Channel; queueId: string }) => patch(`/api/chat-channels/${v.c.id}`, { queueId: v.queueId }), { invalidate: [['chat-channels']], success: t('common.saved') });
  const remove = useApiMutation((c: Channel) => del(`/api/chat-channels/${c.id}`), {
    invalidate: [['chat-channels']],
    success: t('common.deleted'),
    onError: (e) => {
      if (isRefusal(e)) {
        const c = (q.data?.items ?? []).find((x) => e.message.includes(x.name)) ?? null;
        setRefusal({ channel: c ?? ({ name: '' } as Channel), message: errorText(e) });
      } else notifyError(e);
    },
  });

  return (
    <>
      <PageHeader
        title={t('channels.title')}
        description={t('channels.description')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')} data-testid="add-channel">
            {t('channels.addTelegram')}
          </Button>
        }
      />
      {refusal && (
        <Alert color="orange" icon={<IconAlertTriangle size={18} />} title={t('channels.cannotDelete')} withCloseButton onClose={() => setRefusal(null)} mb="md" data-testid="delete-refused">
          <Text size="sm">{refusal.message}</Text>
          {refusal.channel.id && refusal.channel.isActive && (
            <Button size="xs" mt="sm" variant="light" color="orange" onClick={() => toggle.mutate(refusal.channel, { onSuccess: () => setRefusal(null) })}>
              {t('channels.deactivateInstead')}
            </Button>
          )}
        </Alert>
      )}
      <Card withBorder padding={0}>
        {q.isLoading ? (
          <Loading />
        ) : q.error ? (
          <ErrorState error={q.error} />
        ) : (q.data?.items.length ?? 0) === 0 ? (
          <Text c="dimmed" p="md">
            {t('channels.none')}
          </Text>
        ) : (
          <Table verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('channels.channel')}</Table.Th>
                <Table.Th>{t('channels.state')}</Table.Th>
                <Table.Th>{t('channels.queue')}</Table.Th>
                <Table.Th>{t('common.active')}</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {q.data?.items.map((c) => (
                <Table.Tr key={c.id} data-testid="channel-row">
                  <Table.Td className="list-row" onClick={() => setEditing(c)}>
                    <Group gap="sm" wrap="nowrap">
                      <IconBrandTelegram size={24} color="var(--mantine-color-blue-6)" />
                      <div>
                        <Text size="sm" fw={600}>
                          {c.name}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {c.botUsername ? `@${c.botUsername}` : 'Telegram'}
                        </Text>
                      </div>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    {c.lastError ? (
                      <Tooltip label={c.lastError} multiline maw={360}>
                        <Badge color="red" variant="light" leftSection={<IconAlertTriangle size={12} />} data-testid="channel-state">
                          {t('channels.problem')}
                        </Badge>
                      </Tooltip>
                    ) : (
                      <Badge color={c.isActive ? 'teal' : 'gray'} variant="light" data-testid="channel-state">
                        {c.isActive ? (c.mode === 'polling' ? t('channels.polling') : c.mode === 'webhook' ? t('channels.webhook') : t('channels.connected')) : t('common.inactive')}
                      </Badge>
                    )}
                    {c.lastError && (
                      <Text size="xs" c="red.7" lineClamp={2} maw={320}>
                        {c.lastError}
                      </Text>
                    )}
                    {c.lastCheckedAt && (
                      <Text size="10px" c="dimmed">
                        {t('channels.checked', { at: formatDateTime(c.lastCheckedAt, lang) })}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Select size="xs" w={200} data={(queues.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))} value={c.queueId} allowDeselect={false} onChange={(v) => v && v !== c.queueId && bind.mutate({ c, queueId: v })} aria-label={t('channels.queue')} />
                  </Table.Td>
                  <Table.Td>
                    <Switch checked={c.isActive} onChange={() => toggle.mutate(c)} aria-label={t('common.active')} />
                  </Table.Td>
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={t('common.delete')}
                      onClick={() =>
                        confirmAction({
                          title: t('channels.deleteTitle'),
                          message: t('channels.deleteText', { name: c.name, queue: queueName(c.queueId) }),
                          confirm: t('common.delete'),
                          cancel: t('common.cancel'),
                          danger: true,
                          onConfirm: () => remove.mutate(c, { onError: (e) => isRefusal(e) && setRefusal({ channel: c, message: errorText(e) }) }),
                        })
                      }
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      {editing && <ChannelModal channel={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </>
  );
}

function ChannelModal({ channel, onClose }: { channel: Channel | null; onClose: () => void }) {
  const t = useT();
  const queues = useQueues();
  const [f, setF] = useState({ name: channel?.name ?? '', botToken: '', queueId: channel?.queueId ?? (null as string | null), isActive: channel?.isActive ?? true, delivery: channel?.delivery ?? 'auto' });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const save = useApiMutation(
    () => {
      const body: Record<string, unknown> = { name: f.name || undefined, queueId: f.queueId, isActive: f.isActive };
      if (f.botToken) body.token = f.botToken.trim();
      body.delivery = f.delivery;
      return channel ? patch(`/api/chat-channels/${channel.id}`, body) : post('/api/chat-channels', { kind: 'telegram', ...body });
    },
    {
      invalidate: [['chat-channels']],
      success: t('common.saved'),
      onSuccess: (r) => {
        const warning = (r as { warning?: string } | undefined)?.warning;
        if (warning) notifications.show({ color: 'orange', title: t('channels.added'), message: warning, autoClose: 12_000 });
        onClose();
      },
      onError: (e) => {
        setErrs(fieldErrors(e));
        setError(errorText(e));
      },
    },
  );
  return (
    <Modal opened onClose={onClose} title={channel ? channel.name : t('channels.addTelegram')} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          save.mutate(undefined);
        }}
      >
        <Stack>
          <Alert color="blue" variant="light" icon={<IconBrandTelegram size={18} />}>
            {t('channels.tokenHelp')}
          </Alert>
          {error && (
            <Alert color="red" data-testid="channel-error">
              {error}
            </Alert>
          )}
          <PasswordInput
            label={t('channels.botToken')}
            description={channel ? t('channels.tokenKept') : t('channels.tokenHint')}
            required={!channel}
            placeholder="123456789:AA…"
            value={f.botToken}
            error={errs.token ?? errs.botToken}
            onChange={(e) => setF({ ...f, botToken: e.currentTarget.value })}
            autoComplete="off"
            data-testid="bot-token"
          />
          <TextInput label={t('common.name')} description={t('channels.nameHint')} value={f.name} error={errs.name} onChange={(e) => setF({ ...f, name: e.currentTarget.value })} />
          <Select label={t('channels.queue')} required data={(queues.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))} value={f.queueId} error={errs.queueId} onChange={(v) => setF({ ...f, queueId: v })} data-testid="channel-queue" />
          <Select
            label={t('channels.delivery')}
            allowDeselect={false}
            data={[
              { value: 'auto', label: t('channels.deliveryAuto') },
              { value: 'webhook', label: t('channels.webhook') },
              { value: 'polling', label: t('channels.polling') },
            ]}
            value={f.delivery}
            onChange={(v) => v && setF({ ...f, delivery: v as Channel['delivery'] })}
          />
          <Switch label={t('common.active')} checked={f.isActive} onChange={(e) => setF({ ...f, isActive: e.currentTarget.checked })} />
          {channel && <ChannelDiagnostics id={channel.id} />}
          <Text size="xs" c="orange.8">
            {t('channels.exclusiveWarning')}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="channel-save">
              {channel ? t('common.save') : t('channels.verifyAndAdd')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function ChannelDiagnostics({ id }: { id: string }) {
  const t = useT();
  const lang = useLanguage();
  const q = useQuery({ queryKey: ['chat-channels', id, 'diagnostics'], queryFn: () => get<Channel & { diagnostics: Diagnostics }>(`/api/chat-channels/${id}`) });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  const d = q.data!.diagnostics;
  const rows: [string, string][] = [
    [t('channels.diagMode'), d.mode === 'webhook' ? t('channels.webhook') : d.mode === 'polling' ? t('channels.polling') : '—'],
    [t('channels.diagWebhook'), d.webhookUrl ?? '—'],
    [t('channels.diagExpected'), d.expectedWebhookUrl ?? '—'],
    [t('channels.diagPending'), d.pendingUpdateCount == null ? '—' : String(d.pendingUpdateCount)],
  ];
  return (
    <Card withBorder bg="gray.0" padding="sm" data-testid="channel-diagnostics">
      <Text size="sm" fw={600} mb={6}>
        {t('channels.diagnostics')}
      </Text>
      <Table withRowBorders={false} verticalSpacing={2}>
        <Table.Tbody>
          {rows.map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Td w={200}>
                <Text size="xs" c="dimmed">
                  {k}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>
                  {v}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {d.lastError && (
        <Alert color="red" variant="light" mt="xs" p="xs">
          <Text size="xs">
            {d.lastErrorAt ? formatDateTime(d.lastErrorAt, lang) + ' · ' : ''}
            {d.lastError}
          </Text>
        </Alert>
      )}
    </Card>
  );
}
