// "Share" on a record page (P5): who else sees the record — users and roles, each with read or
// edit access — from GET /api/{records}/{id}/shares, saved whole with PUT (it replaces the list).
// Only the owner or an administrator changes it; everyone else who sees the record reads it.
// Users are picked by name from the user directory (GET /api/users/directory, open to every
// signed-in user: names and addresses only), roles from GET /api/roles.
import { useState } from 'react';
import { ActionIcon, Alert, Badge, Button, Group, Modal, SegmentedControl, Select, Stack, Table, Text } from '@mantine/core';
import { IconTrash, IconUser, IconUsersGroup } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { get, put, qs, type Page } from '../../api/client.js';
import { useSession } from '../../api/session.js';
import { ErrorState, Loading, useApiMutation } from '../../components/common.js';
import { useDebounced } from '../../components/useDebounced.js';
import { useT } from '../../i18n/index.js';
import type { Share } from './types.js';

type ShareKind = 'contacts' | 'accounts' | 'cases' | 'groups';
interface UserItem {
  id: string;
  name: string;
  email: string;
}
interface RoleItem {
  id: string;
  name: string;
}

export function ShareDialog({ kind, id, ownerId, onClose }: { kind: ShareKind; id: string; ownerId: string; onClose: () => void }) {
  const t = useT();
  const { me, can } = useSession();
  const admin = can('CanManageAdministration');
  const editable = admin || me?.id === ownerId;
  const current = useQuery({ queryKey: ['shares', kind, id], queryFn: () => get<{ shares: Share[] }>(`/api/${kind}/${id}/shares`) });
  const [draft, setDraft] = useState<Share[] | null>(null);
  const shares = draft ?? current.data?.shares ?? [];
  const [userSearch, setUserSearch] = useState('');
  const dq = useDebounced(userSearch, 250);
  const users = useQuery({ queryKey: ['users', 'directory', dq], queryFn: () => get<Page<UserItem>>(qs('/api/users/directory', { q: dq, limit: 50 })), enabled: editable, retry: false });
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => get<Page<RoleItem>>('/api/roles'), retry: false });
  // Names of users already on the list, remembered from searches (a search may not show them).
  const [known, setKnown] = useState<Record<string, UserItem>>({});
  const sharedUserIds = (current.data?.shares ?? []).flatMap((s) => (s.userId && s.userId !== me?.id ? [s.userId] : []));
  const sharedUsers = useQuery({
    queryKey: ['users', 'byIds', sharedUserIds],
    queryFn: () => get<Page<UserItem>>(qs('/api/users/directory', { ids: sharedUserIds.slice(0, 100).join(',') })).then((p) => p.items),
    enabled: sharedUserIds.length > 0,
    retry: false,
  });
  const userName = (uid: string) => {
    if (uid === me?.id) return t('crm.you', { name: me.name });
    const u = known[uid] ?? users.data?.items.find((x) => x.id === uid) ?? sharedUsers.data?.find((x) => x?.id === uid);
    return u ? `${u.name} <${u.email}>` : t('crm.shareUnknownUser');
  };
  const roleName = (rid: string) => roles.data?.items.find((r) => r.id === rid)?.name ?? rid;
  const save = useApiMutation(() => put<{ shares: Share[] }>(`/api/${kind}/${id}/shares`, { shares: shares.map((s) => (s.userId ? { userId: s.userId, access: s.access } : { roleId: s.roleId, access: s.access })) }), {
    invalidate: [['shares', kind, id], ['timeline', kind, id], [kind]],
    success: t('crm.shareSaved'),
    onSuccess: onClose,
  });
  const change = (next: Share[]) => setDraft(next);
  const addUser = (uid: string | null) => {
    if (!uid || shares.some((s) => s.userId === uid)) return;
    const u = users.data?.items.find((x) => x.id === uid);
    if (u) setKnown((k) => ({ ...k, [uid]: u }));
    change([...shares, { userId: uid, roleId: null, access: 'read' }]);
    setUserSearch('');
  };
  const addRole = (rid: string | null) => {
    if (!rid || shares.some((s) => s.roleId === rid)) return;
    change([...shares, { userId: null, roleId: rid, access: 'read' }]);
  };
  return (
    <Modal opened onClose={onClose} title={t('crm.shareTitle')} size="lg">
      {current.isLoading ? (
        <Loading />
      ) : current.error ? (
        <ErrorState error={current.error} />
      ) : (
        <Stack>
          <Text size="sm" c="dimmed">
            {t('crm.shareHint')}
          </Text>
          {shares.length === 0 ? (
            <Text size="sm">{t('crm.shareNone')}</Text>
          ) : (
            <Table verticalSpacing="xs" data-testid="share-list">
              <Table.Tbody>
                {shares.map((s, i) => {
                  const name = s.userId ? userName(s.userId) : roleName(s.roleId ?? '');
                  return (
                    <Table.Tr key={(s.userId ?? 'r:' + s.roleId) + i} data-testid="share-row">
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          {s.userId ? <IconUser size={16} /> : <IconUsersGroup size={16} />}
                          <Text size="sm">{name}</Text>
                          <Badge size="xs" variant="light" color={s.userId ? 'indigo' : 'grape'}>
                            {t(s.userId ? 'crm.shareUser' : 'crm.shareRole')}
                          </Badge>
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <SegmentedControl
                          size="xs"
                          disabled={!editable}
                          value={s.access}
                          onChange={(v) => change(shares.map((x, j) => (j === i ? { ...x, access: v as Share['access'] } : x)))}
                          data={[
                            { value: 'read', label: t('crm.shareRead') },
                            { value: 'edit', label: t('crm.shareEdit') },
                          ]}
                        />
                      </Table.Td>
                      <Table.Td w={40}>
                        {editable && (
                          <ActionIcon variant="subtle" color="red" aria-label={t('crm.shareRemove', { name })} onClick={() => change(shares.filter((_, j) => j !== i))}>
                            <IconTrash size={16} />
                          </ActionIcon>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          )}
          {editable ? (
            <>
              {users.error ? (
                <Alert color="gray">{t('crm.shareUsersUnavailable')}</Alert>
              ) : (
                <Select
                  aria-label={t('crm.shareAddUser')}
                  placeholder={t('crm.shareAddUser')}
                  searchable
                  filter={({ options }) => options}
                  searchValue={userSearch}
                  onSearchChange={setUserSearch}
                  leftSection={<IconUser size={16} />}
                  data={(users.data?.items ?? []).filter((u) => u.id !== ownerId && !shares.some((s) => s.userId === u.id)).map((u) => ({ value: u.id, label: `${u.name} <${u.email}>` }))}
                  value={null}
                  onChange={addUser}
                  data-testid="share-add-user"
                />
              )}
              <Select
                aria-label={t('crm.shareAddRole')}
                placeholder={t('crm.shareAddRole')}
                searchable
                leftSection={<IconUsersGroup size={16} />}
                data={(roles.data?.items ?? []).filter((r) => !shares.some((s) => s.roleId === r.id)).map((r) => ({ value: r.id, label: r.name }))}
                value={null}
                onChange={addRole}
                data-testid="share-add-role"
              />
              <Group justify="flex-end">
                <Button variant="default" onClick={onClose}>
                  {t('common.cancel')}
                </Button>
                <Button onClick={() => save.mutate(undefined)} loading={save.isPending} disabled={draft === null} data-testid="share-save">
                  {t('common.save')}
                </Button>
              </Group>
            </>
          ) : (
            <>
              <Alert color="gray">{t('crm.shareReadOnly')}</Alert>
              <Group justify="flex-end">
                <Button variant="default" onClick={onClose}>
                  {t('common.close')}
                </Button>
              </Group>
            </>
          )}
        </Stack>
      )}
    </Modal>
  );
}
