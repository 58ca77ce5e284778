// My mailboxes (B2): each with provider, state and sync summary; add, open settings, sync, remove.
import { useNavigate } from 'react-router';
import { Alert, Badge, Button, Card, Group, SimpleGrid, Stack, Text, ThemeIcon, Radio, Modal } from '@mantine/core';
import { IconMail, IconPlus, IconSettings, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, qs, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, useApiMutation } from '../../components/common.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT } from '../../i18n/index.js';
import type { Mailbox } from './mailboxTypes.js';
import { SyncStatusBadge, errorMessageOf, useSyncStatus } from './SyncStatusCard.js';

export function useMailboxes() {
  return useQuery({ queryKey: ['mailboxes'], queryFn: () => get<Page<Mailbox>>('/api/mailboxes') });
}

export function MailboxesPage() {
  const t = useT();
  const navigate = useNavigate();
  const q = useMailboxes();
  return (
    <>
      <PageHeader
        title={t('nav.myMailboxes')}
        description={t('mailbox.listHint')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => navigate('/profile/mailboxes/new')} data-testid="add-mailbox">
            {t('mailbox.add')}
          </Button>
        }
      />
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorState error={q.error} />
      ) : q.data?.items.length === 0 ? (
        <Card withBorder p="xl">
          <Stack align="center" gap="sm">
            <ThemeIcon size={56} radius="xl" variant="light">
              <IconMail size={28} />
            </ThemeIcon>
            <Text fw={600}>{t('mailbox.none')}</Text>
            <Text c="dimmed" size="sm" ta="center" maw={420}>
              {t('mailbox.noneHint')}
            </Text>
            <Button onClick={() => navigate('/profile/mailboxes/new')}>{t('mailbox.add')}</Button>
          </Stack>
        </Card>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {q.data?.items.map((m) => (
            <MailboxCard key={m.id} mailbox={m} />
          ))}
        </SimpleGrid>
      )}
    </>
  );
}

function MailboxCard({ mailbox: m }: { mailbox: Mailbox }) {
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const sync = useSyncStatus(m.id);
  const [removing, setRemoving] = useState(false);
  const err = sync.data ? errorMessageOf(sync.data) : null;
  return (
    <Card withBorder data-testid="mailbox-card">
      <Group justify="space-between" wrap="nowrap" mb="xs">
        <Group gap="sm" wrap="nowrap">
          <ThemeIcon size={40} radius="xl" variant="light">
            <IconMail size={20} />
          </ThemeIcon>
          <div>
            <Text fw={650}>{m.email}</Text>
            <Text size="xs" c="dimmed">
              {m.providerName}
            </Text>
          </div>
        </Group>
        {m.status === 'needs-reauth' ? <Badge color="orange">{t('mailbox.needsReauth')}</Badge> : <SyncStatusBadge status={sync.data} />}
      </Group>
      {m.status === 'needs-reauth' && (
        <Alert color="orange" variant="light" mb="xs">
          {m.statusReason ?? t('mailbox.needsReauthText')}
        </Alert>
      )}
      {err && m.status !== 'needs-reauth' && (
        <Text size="sm" c="red.7" lineClamp={2} mb="xs">
          {err}
        </Text>
      )}
      <Text size="xs" c="dimmed">
        {t('sync.lastSuccess')}: {formatDateTime(sync.data?.lastSuccessAt, lang)}
      </Text>
      <Group mt="md" gap="xs">
        <Button size="xs" variant="light" leftSection={<IconSettings size={14} />} onClick={() => navigate(`/profile/mailboxes/${m.id}`)}>
          {t('mailbox.settings')}
        </Button>
        <Button size="xs" variant="subtle" onClick={() => navigate(`/panel/email?mailboxId=${m.id}`)}>
          {t('mailbox.openMail')}
        </Button>
        <Button size="xs" variant="subtle" color="red" ml="auto" leftSection={<IconTrash size={14} />} onClick={() => setRemoving(true)}>
          {t('common.delete')}
        </Button>
      </Group>
      {removing && <RemoveMailbox mailbox={m} onClose={() => setRemoving(false)} />}
    </Card>
  );
}

export function RemoveMailbox({ mailbox, onClose, onRemoved }: { mailbox: Mailbox; onClose: () => void; onRemoved?: () => void }) {
  const t = useT();
  const [mode, setMode] = useState('keep');
  const remove = useApiMutation(() => del(qs(`/api/mailboxes/${mailbox.id}`, { deleteMail: mode === 'delete' })), {
    invalidate: [['mailboxes'], ['emails']],
    success: t('common.deleted'),
    onSuccess: () => {
      onClose();
      onRemoved?.();
    },
  });
  return (
    <Modal opened onClose={onClose} title={t('mailbox.removeTitle', { email: mailbox.email })}>
      <Stack>
        <Text size="sm">{t('mailbox.removeText')}</Text>
        <Radio.Group value={mode} onChange={setMode}>
          <Stack gap="xs">
            <Radio value="keep" label={t('mailbox.keepMail')} />
            <Radio value="delete" label={t('mailbox.deleteMail')} />
          </Stack>
        </Radio.Group>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t('common.cancel')}
          </Button>
          <Button color="red" loading={remove.isPending} onClick={() => remove.mutate(undefined)}>
            {t('common.delete')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
