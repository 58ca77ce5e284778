import { useEffect, useState } from 'react';
import { Button, Card, Group, MultiSelect, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { get, put } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, useApiMutation } from '../../components/common.js';
import { useT, type TKey } from '../../i18n/index.js';
import { useRoles, useUsers } from './Users.js';

interface Grant {
  operation: string;
  userIds: string[];
  roleIds: string[];
}

export function OperationsPage() {
  const t = useT();
  const grants = useQuery({ queryKey: ['system-operations'], queryFn: () => get<{ items: Grant[] }>('/api/system-operations') });
  const users = useUsers();
  const roles = useRoles();
  const userData = (users.data?.items ?? []).map((u) => ({ value: u.id, label: u.name }));
  const roleData = (roles.data?.items ?? []).map((r) => ({ value: r.id, label: r.name }));
  return (
    <>
      <PageHeader title={t('ops.title')} description={t('ops.description')} />
      {grants.isLoading ? (
        <Loading />
      ) : grants.error ? (
        <ErrorState error={grants.error} />
      ) : (
        <Stack>
          {grants.data?.items.map((g) => (
            <GrantCard key={g.operation} grant={g} users={userData} roles={roleData} />
          ))}
        </Stack>
      )}
    </>
  );
}

function GrantCard({ grant, users, roles }: { grant: Grant; users: { value: string; label: string }[]; roles: { value: string; label: string }[] }) {
  const t = useT();
  const [userIds, setUserIds] = useState(grant.userIds);
  const [roleIds, setRoleIds] = useState(grant.roleIds);
  useEffect(() => {
    setUserIds(grant.userIds);
    setRoleIds(grant.roleIds);
  }, [grant]);
  const dirty = userIds.join() !== grant.userIds.join() || roleIds.join() !== grant.roleIds.join();
  const save = useApiMutation(() => put(`/api/system-operations/${grant.operation}`, { userIds, roleIds }), { invalidate: [['system-operations']], success: t('common.saved') });
  return (
    <Card withBorder data-testid={`op-${grant.operation}`}>
      <Group justify="space-between" mb="xs">
        <div>
          <Text fw={650} ff="monospace">
            {grant.operation}
          </Text>
          <Text size="sm" c="dimmed">
            {t(`ops.${grant.operation}` as TKey)}
          </Text>
        </div>
        <Button size="xs" disabled={!dirty} loading={save.isPending} onClick={() => save.mutate(undefined)}>
          {t('common.save')}
        </Button>
      </Group>
      <Group grow align="flex-start">
        <MultiSelect label={t('ops.roles')} data={roles} value={roleIds} onChange={setRoleIds} searchable />
        <MultiSelect label={t('ops.users')} data={users} value={userIds} onChange={setUserIds} searchable />
      </Group>
    </Card>
  );
}
