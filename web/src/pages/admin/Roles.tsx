import { useState } from 'react';
import { Badge, Button, Card, Group, Modal, MultiSelect, SimpleGrid, Stack, Text, TextInput, Textarea, ActionIcon } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { del, fieldErrors, patch, post } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, confirmAction, notifyError, useApiMutation } from '../../components/common.js';
import { useT } from '../../i18n/index.js';
import { useRoles, useUsers, type Role } from './Users.js';

export function RolesPage() {
  const t = useT();
  const roles = useRoles();
  const users = useUsers();
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const remove = useApiMutation((r: Role) => del(`/api/roles/${r.id}`), { invalidate: [['roles']], success: t('common.deleted') });
  const all = roles.data?.items ?? [];
  const userName = (id: string) => users.data?.items.find((u) => u.id === id)?.name ?? '…';
  const roleName = (id: string) => all.find((r) => r.id === id)?.name ?? '…';
  return (
    <>
      <PageHeader
        title={t('roles.title')}
        description={t('roles.description')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
            {t('roles.add')}
          </Button>
        }
      />
      {roles.isLoading ? (
        <Loading />
      ) : roles.error ? (
        <ErrorState error={roles.error} />
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {all.map((r) => (
            <Card key={r.id} withBorder className="list-row" onClick={() => setEditing(r)}>
              <Group justify="space-between" wrap="nowrap">
                <Text fw={650}>{r.name}</Text>
                <ActionIcon
                  variant="subtle"
                  color="red"
                  aria-label={t('common.delete')}
                  onClick={(e) => {
                    e.stopPropagation();
                    confirmAction({ title: t('roles.deleteTitle'), message: t('roles.deleteText', { name: r.name }), confirm: t('common.delete'), cancel: t('common.cancel'), danger: true, onConfirm: () => remove.mutate(r) });
                  }}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
              {r.description && (
                <Text size="sm" c="dimmed">
                  {r.description}
                </Text>
              )}
              <Text size="xs" c="dimmed" mt="sm">
                {t('roles.members')}
              </Text>
              <Group gap={4}>
                {r.userIds.length === 0 && r.childRoleIds.length === 0 && (
                  <Text size="sm" c="dimmed">
                    —
                  </Text>
                )}
                {r.childRoleIds.map((id) => (
                  <Badge key={id} color="grape" variant="light">
                    {roleName(id)}
                  </Badge>
                ))}
                {r.userIds.map((id) => (
                  <Badge key={id} variant="outline" color="gray">
                    {userName(id)}
                  </Badge>
                ))}
              </Group>
            </Card>
          ))}
        </SimpleGrid>
      )}
      {editing && (
        <RoleModal
          role={editing === 'new' ? null : editing}
          roles={all}
          users={(users.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.name} <${u.email}>` }))}
          onClose={() => setEditing(null)}
        />
      )}
    </>
  );
}

function RoleModal({ role, roles, users, onClose }: { role: Role | null; roles: Role[]; users: { value: string; label: string }[]; onClose: () => void }) {
  const t = useT();
  const [form, setForm] = useState({ name: role?.name ?? '', description: role?.description ?? '', userIds: role?.userIds ?? [], childRoleIds: role?.childRoleIds ?? [] });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const save = useApiMutation(() => (role ? patch(`/api/roles/${role.id}`, form) : post('/api/roles', form)), {
    invalidate: [['roles'], ['users']],
    success: t('common.saved'),
    onSuccess: onClose,
    onError: (e) => {
      setErrs(fieldErrors(e));
      notifyError(e);
    },
  });
  return (
    <Modal opened onClose={onClose} title={role ? t('roles.edit') : t('roles.add')} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <TextInput label={t('roles.name')} required value={form.name} error={errs.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          <Textarea label={t('roles.descriptionField')} value={form.description} onChange={(e) => setForm({ ...form, description: e.currentTarget.value })} />
          <MultiSelect label={t('roles.users')} data={users} searchable value={form.userIds} error={errs.userIds} onChange={(v) => setForm({ ...form, userIds: v })} />
          <MultiSelect
            label={t('roles.childRoles')}
            description={t('roles.childRolesHint')}
            data={roles.filter((r) => r.id !== role?.id).map((r) => ({ value: r.id, label: r.name }))}
            value={form.childRoleIds}
            error={errs.childRoleIds}
            onChange={(v) => setForm({ ...form, childRoleIds: v })}
          />
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
