// Chat queues (H1): name, routing rule, completion timeout, operators as users and/or roles.
import { useState } from 'react';
import { ActionIcon, Badge, Button, Card, Group, Modal, MultiSelect, NumberInput, SegmentedControl, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { IconPlus, IconTrash, IconUsers } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { del, fieldErrors, get, patch, post, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, confirmAction, notifyError, useApiMutation } from '../../components/common.js';
import { useT } from '../../i18n/index.js';
import type { Role } from '../admin/Users.js';

export interface Queue {
  id: string;
  name: string;
  routingRule: 'to-all' | 'least-busy';
  completionTimeoutMinutes: number | null;
  userIds: string[];
  roleIds: string[];
}

export function useQueues() {
  return useQuery({ queryKey: ['chat-queues'], queryFn: () => get<Page<Queue>>('/api/chat-queues?limit=200') });
}

/**
 * Users and roles for the operator pickers. Users come from /api/operators, which a chat manager
 * may read without CanManageAdministration (the full user list needs it).
 */
function usePeople() {
  const users = useQuery({
    queryKey: ['operators', 'for-queues'],
    queryFn: () => get<{ items: { userId: string; name: string; email: string }[] }>('/api/operators?limit=500'),
    retry: false,
  });
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => get<Page<Role>>('/api/roles') });
  return { users: (users.data?.items ?? []).map((u) => ({ id: u.userId, name: u.name, email: u.email })), roles: roles.data?.items ?? [] };
}

export function QueuesPage() {
  const t = useT();
  const q = useQueues();
  const people = usePeople();
  const [editing, setEditing] = useState<Queue | 'new' | null>(null);
  const remove = useApiMutation((x: Queue) => del(`/api/chat-queues/${x.id}`), { invalidate: [['chat-queues']], success: t('common.deleted') });
  const userName = (id: string) => people.users.find((u) => u.id === id)?.name ?? '…';
  const roleName = (id: string) => people.roles.find((r) => r.id === id)?.name ?? '…';
  return (
    <>
      <PageHeader
        title={t('queues.title')}
        description={t('queues.description')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
            {t('queues.add')}
          </Button>
        }
      />
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorState error={q.error} />
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {q.data?.items.map((x) => (
            <Card key={x.id} withBorder className="list-row" onClick={() => setEditing(x)} data-testid="queue-card">
              <Group justify="space-between" wrap="nowrap">
                <Text fw={650}>{x.name}</Text>
                <ActionIcon
                  variant="subtle"
                  color="red"
                  aria-label={t('common.delete')}
                  onClick={(e) => {
                    e.stopPropagation();
                    confirmAction({ title: t('queues.deleteTitle'), message: t('queues.deleteText', { name: x.name }), confirm: t('common.delete'), cancel: t('common.cancel'), danger: true, onConfirm: () => remove.mutate(x) });
                  }}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
              <Group gap={6} mt={4}>
                <Badge variant="light">{x.routingRule === 'to-all' ? t('queues.toAll') : t('queues.leastBusy')}</Badge>
                <Badge variant="outline" color="gray">
                  {x.completionTimeoutMinutes ? t('queues.timeoutN', { n: x.completionTimeoutMinutes }) : t('queues.noTimeout')}
                </Badge>
              </Group>
              <Group gap={4} mt="sm">
                <IconUsers size={14} color="gray" />
                {x.roleIds.map((id) => (
                  <Badge key={id} color="grape" variant="light" size="sm">
                    {roleName(id)}
                  </Badge>
                ))}
                {x.userIds.map((id) => (
                  <Badge key={id} color="gray" variant="outline" size="sm">
                    {userName(id)}
                  </Badge>
                ))}
                {x.userIds.length + x.roleIds.length === 0 && (
                  <Text size="xs" c="orange">
                    {t('queues.noOperators')}
                  </Text>
                )}
              </Group>
            </Card>
          ))}
        </SimpleGrid>
      )}
      {editing && <QueueModal queue={editing === 'new' ? null : editing} users={people.users} roles={people.roles} onClose={() => setEditing(null)} />}
    </>
  );
}

function QueueModal({ queue, users, roles, onClose }: { queue: Queue | null; users: { id: string; name: string; email: string }[]; roles: Role[]; onClose: () => void }) {
  const t = useT();
  const [f, setF] = useState({
    name: queue?.name ?? '',
    routingRule: queue?.routingRule ?? 'to-all',
    completionTimeoutMinutes: queue?.completionTimeoutMinutes ?? ('' as number | ''),
    userIds: queue?.userIds ?? [],
    roleIds: queue?.roleIds ?? [],
  });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const save = useApiMutation(
    () => {
      const body = { ...f, completionTimeoutMinutes: f.completionTimeoutMinutes === '' ? null : Number(f.completionTimeoutMinutes) };
      return queue ? patch(`/api/chat-queues/${queue.id}`, body) : post('/api/chat-queues', body);
    },
    {
      invalidate: [['chat-queues']],
      success: t('common.saved'),
      onSuccess: onClose,
      onError: (e) => {
        setErrs(fieldErrors(e));
        notifyError(e);
      },
    },
  );
  return (
    <Modal opened onClose={onClose} title={queue ? queue.name : t('queues.add')} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <TextInput label={t('common.name')} required value={f.name} error={errs.name} onChange={(e) => setF({ ...f, name: e.currentTarget.value })} data-testid="queue-name" />
          <div>
            <Text size="sm" fw={500} mb={4}>
              {t('queues.routing')}
            </Text>
            <SegmentedControl
              fullWidth
              value={f.routingRule}
              onChange={(v) => setF({ ...f, routingRule: v as Queue['routingRule'] })}
              data={[
                { value: 'to-all', label: t('queues.toAll') },
                { value: 'least-busy', label: t('queues.leastBusy') },
              ]}
            />
            <Text size="xs" c="dimmed" mt={4}>
              {f.routingRule === 'to-all' ? t('queues.toAllHint') : t('queues.leastBusyHint')}
            </Text>
          </div>
          <NumberInput
            label={t('queues.timeout')}
            description={t('queues.timeoutHint')}
            min={1}
            allowDecimal={false}
            value={f.completionTimeoutMinutes}
            error={errs.completionTimeoutMinutes}
            onChange={(v) => setF({ ...f, completionTimeoutMinutes: v === '' ? '' : Number(v) })}
            w={260}
          />
          <MultiSelect label={t('queues.operatorRoles')} data={roles.map((r) => ({ value: r.id, label: r.name }))} value={f.roleIds} onChange={(v) => setF({ ...f, roleIds: v })} searchable error={errs.roleIds} />
          <MultiSelect
            label={t('queues.operatorUsers')}
            // Operators already in the queue but no longer listed (deactivated) stay selectable, by id.
            data={[...users.map((u) => ({ value: u.id, label: `${u.name} <${u.email}>` })), ...f.userIds.filter((id) => !users.some((u) => u.id === id)).map((id) => ({ value: id, label: id }))]}
            value={f.userIds}
            onChange={(v) => setF({ ...f, userIds: v })}
            searchable
            error={errs.userIds}
            data-testid="queue-users"
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="queue-save">
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
