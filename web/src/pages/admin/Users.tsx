import { useState } from 'react';
import { Badge, Button, Card, Group, Modal, MultiSelect, PasswordInput, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { fieldErrors, get, patch, post, qs, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { LANGUAGES, useLanguage, useT } from '../../i18n/index.js';
import { formatDateTime } from '../../components/format.js';

export interface User {
  id: string;
  email: string;
  name: string;
  language: string;
  isActive: boolean;
  hasPassword: boolean;
  roleIds: string[];
  createdAt: string;
  lastLoginAt: string | null;
}
export interface Role {
  id: string;
  name: string;
  description: string | null;
  userIds: string[];
  childRoleIds: string[];
}

export function useRoles() {
  return useQuery({ queryKey: ['roles'], queryFn: () => get<Page<Role>>('/api/roles') });
}
export function useUsers(q = '') {
  return useQuery({ queryKey: ['users', q], queryFn: () => get<Page<User>>(qs('/api/users', { q, limit: 200 })) });
}

export function UsersPage() {
  const t = useT();
  const lang = useLanguage();
  const [q, setQ] = useState('');
  const users = useUsers(q);
  const roles = useRoles();
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const roleName = (id: string) => roles.data?.items.find((r) => r.id === id)?.name ?? '…';
  const toggle = useApiMutation((u: User) => patch(`/api/users/${u.id}`, { isActive: !u.isActive }), { invalidate: [['users']] });

  return (
    <>
      <PageHeader
        title={t('users.title')}
        description={t('users.description')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
            {t('users.add')}
          </Button>
        }
      />
      <Card withBorder padding={0}>
        <Group p="md">
          <TextInput leftSection={<IconSearch size={16} />} placeholder={t('common.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={320} />
        </Group>
        {users.isLoading ? (
          <Loading />
        ) : users.error ? (
          <ErrorState error={users.error} />
        ) : (
          <Table highlightOnHover verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('users.name')}</Table.Th>
                <Table.Th>{t('users.roles')}</Table.Th>
                <Table.Th>{t('users.lastLogin')}</Table.Th>
                <Table.Th>{t('users.active')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.data?.items.map((u) => (
                <Table.Tr key={u.id} className="list-row">
                  <Table.Td onClick={() => setEditing(u)}>
                    <Text fw={600} size="sm">
                      {u.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {u.email}
                    </Text>
                  </Table.Td>
                  <Table.Td onClick={() => setEditing(u)}>
                    <Group gap={4}>
                      {u.roleIds.map((r) => (
                        <Badge key={r} variant="light" size="sm">
                          {roleName(r)}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td onClick={() => setEditing(u)}>
                    <Text size="sm" c="dimmed">
                      {formatDateTime(u.lastLoginAt, lang)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Switch checked={u.isActive} onChange={() => toggle.mutate(u)} aria-label={t('users.active')} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      {editing && <UserModal user={editing === 'new' ? null : editing} roles={roles.data?.items ?? []} onClose={() => setEditing(null)} />}
    </>
  );
}

function UserModal({ user, roles, onClose }: { user: User | null; roles: Role[]; onClose: () => void }) {
  const t = useT();
  const [form, setForm] = useState({
    name: user?.name ?? '',
    email: user?.email ?? '',
    password: '',
    language: user?.language ?? 'en',
    roleIds: user?.roleIds ?? [],
  });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const save = useApiMutation(
    () => {
      const body: Record<string, unknown> = { name: form.name, email: form.email, language: form.language, roleIds: form.roleIds };
      if (form.password) body.password = form.password;
      return user ? patch(`/api/users/${user.id}`, body) : post('/api/users', body);
    },
    {
      invalidate: [['users'], ['roles']],
      success: t('common.saved'),
      onSuccess: onClose,
      onError: (e) => {
        setErrs(fieldErrors(e));
        notifyError(e);
      },
    },
  );
  return (
    <Modal opened onClose={onClose} title={user ? t('users.edit') : t('users.add')} size="md">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <TextInput label={t('users.name')} required value={form.name} error={errs.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          <TextInput label={t('login.email')} type="email" required value={form.email} error={errs.email} onChange={(e) => setForm({ ...form, email: e.currentTarget.value })} />
          <PasswordInput
            label={user ? t('users.newPassword') : t('login.password')}
            description={user?.hasPassword ? t('users.passwordKeep') : undefined}
            value={form.password}
            error={errs.password}
            onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
          />
          <Select label={t('shell.language')} data={LANGUAGES} value={form.language} allowDeselect={false} onChange={(v) => setForm({ ...form, language: v ?? 'en' })} />
          <MultiSelect label={t('users.roles')} data={roles.map((r) => ({ value: r.id, label: r.name }))} value={form.roleIds} searchable onChange={(v) => setForm({ ...form, roleIds: v })} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
