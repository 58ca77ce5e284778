// A group's page: its name, kind and description; edit, delete and share it; its members (contacts
// or activities, paged) with a search that adds one from the contacts or activities list, and a
// button on each member that takes it out. Also the "Add to group" dialog of a contact's page.
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { ActionIcon, Anchor, Badge, Button, Card, Grid, Group, Modal, Select, Stack, Table, Text, Title } from '@mantine/core';
import { IconArrowLeft, IconEdit, IconShare, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { api, del, get, post, qs, type Page } from '../../api/client.js';
import { useSession } from '../../api/session.js';
import { ErrorState, Loading, confirmAction, useApiMutation } from '../../components/common.js';
import { ListBody, LoadMore, usePagedList } from '../../components/paged.js';
import { useDebounced } from '../../components/useDebounced.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT, type TKey } from '../../i18n/index.js';
import type { Activity, Contact, CrmGroup, Share } from './types.js';
import { GroupFormModal } from './Groups.js';
import { ShareDialog } from './ShareDialog.js';
import { RecordTimeline } from './Record.js';

type Member = Contact | Activity;
const memberName = (m: Member) => ('title' in m ? m.title : m.name);

export function GroupPage() {
  const { id } = useParams();
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const { me, can } = useSession();
  const [editing, setEditing] = useState(false);
  const [sharing, setSharing] = useState(false);
  const group = useQuery({ queryKey: ['groups', 'one', id], queryFn: () => get<CrmGroup>(`/api/groups/${id}`) });
  const shares = useQuery({ queryKey: ['shares', 'groups', id], queryFn: () => get<{ shares: Share[] }>(`/api/groups/${id}/shares`), enabled: !!group.data, retry: false });
  const { query: members, rows } = usePagedList<Member>(['groups', 'members', id], `/api/groups/${id}/members`, {}, { enabled: !!group.data });
  const remove = useApiMutation((recordId: string) => api('DELETE', `/api/groups/${id}/members`, { recordIds: [recordId] }), { invalidate: [['groups']] });
  const deleteGroup = useApiMutation(() => del(`/api/groups/${id}`), {
    invalidate: [['groups']],
    success: t('crm.groupDeleted'),
    onSuccess: () => navigate('/crm/groups'),
  });
  if (group.isLoading) return <Loading />;
  if (group.error) return <ErrorState error={group.error} />;
  const g = group.data!;
  const mine = (s: Share) => (s.userId !== null && s.userId === me?.id) || (s.roleId !== null && !!me?.roleIds.includes(s.roleId));
  const canEdit = g.ownerId === me?.id || can('CanManageAdministration') || !shares.data || shares.data.shares.some((s) => mine(s) && s.access === 'edit');
  const canDelete = g.ownerId === me?.id || can('CanManageAdministration');
  return (
    <>
      <Anchor size="sm" onClick={() => navigate('/crm/groups')} mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
        <IconArrowLeft size={14} /> {t('crm.groups')}
      </Anchor>
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card withBorder>
            <Title order={3} data-testid="group-title">
              {g.name}
            </Title>
            <Group gap={6} mt={4} mb="md">
              <Badge variant="light" color={g.kind === 'contacts' ? 'indigo' : 'grape'}>
                {t(`crm.groupKind.${g.kind}` as TKey)}
              </Badge>
              <Text size="sm" c="dimmed" data-testid="group-count">
                {t('crm.groupMemberCount', { n: g.memberCount })}
              </Text>
            </Group>
            <Group gap="xs" mb="md">
              {canEdit && (
                <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setEditing(true)} data-testid="group-edit">
                  {t('common.edit')}
                </Button>
              )}
              <Button size="xs" variant="light" leftSection={<IconShare size={14} />} onClick={() => setSharing(true)} data-testid="record-share">
                {t('crm.share')}
              </Button>
              {canDelete && (
                <Button
                  size="xs"
                  variant="light"
                  color="red"
                  leftSection={<IconTrash size={14} />}
                  loading={deleteGroup.isPending}
                  data-testid="group-delete"
                  onClick={() =>
                    confirmAction({
                      title: t('crm.deleteGroup'),
                      message: t('crm.deleteGroupConfirm', { name: g.name }),
                      confirm: t('common.delete'),
                      cancel: t('common.cancel'),
                      danger: true,
                      onConfirm: () => deleteGroup.mutate(undefined),
                    })
                  }
                >
                  {t('common.delete')}
                </Button>
              )}
              {!canEdit && (
                <Badge variant="light" color="gray" data-testid="record-read-only">
                  {t('crm.readOnly')}
                </Badge>
              )}
            </Group>
            {g.description && (
              <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                {g.description}
              </Text>
            )}
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Card withBorder>
            <Title order={4} mb="md">
              {t('crm.groupMembers')}
            </Title>
            {canEdit && <MemberPicker group={g} memberIds={new Set(rows.map((m) => m.id))} />}
            <ListBody query={members} empty={rows.length === 0} emptyText={t('crm.groupEmpty')}>
              <Table verticalSpacing="xs" mt="md">
                <Table.Tbody>
                  {rows.map((m) => (
                    <Table.Tr key={m.id} data-testid="group-member">
                      <Table.Td>
                        {'title' in m ? (
                          <Text size="sm">{m.title}</Text>
                        ) : (
                          <Anchor size="sm" onClick={() => navigate(`/crm/contacts/${m.id}`)}>
                            {m.name}
                          </Anchor>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" c="dimmed">
                          {'title' in m ? formatDateTime(m.start, lang) : (m.emails.find((e) => e.isPrimary) ?? m.emails[0])?.email}
                        </Text>
                      </Table.Td>
                      <Table.Td w={50}>
                        {canEdit && (
                          <ActionIcon variant="subtle" color="red" aria-label={t('crm.removeMember', { name: memberName(m) })} loading={remove.isPending && remove.variables === m.id} onClick={() => remove.mutate(m.id)}>
                            <IconTrash size={16} />
                          </ActionIcon>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ListBody>
            <LoadMore list={members} testId="group-members-more" />
          </Card>
          <Card withBorder mt="md">
            <Title order={4} mb="md">
              {t('crm.timeline')}
            </Title>
            <RecordTimeline kind="groups" id={g.id} />
          </Card>
        </Grid.Col>
      </Grid>
      {editing && <GroupFormModal existing={g} onClose={() => setEditing(false)} />}
      {sharing && <ShareDialog kind="groups" id={g.id} ownerId={g.ownerId} onClose={() => setSharing(false)} />}
    </>
  );
}

/** Search the group's kind of records (contacts or activities) and add the one picked. */
function MemberPicker({ group, memberIds }: { group: CrmGroup; memberIds: Set<string> }) {
  const t = useT();
  const [search, setSearch] = useState('');
  const dq = useDebounced(search, 250);
  const found = useQuery({ queryKey: [group.kind, 'pick', dq], queryFn: () => get<Page<Member>>(qs(`/api/${group.kind}`, { q: dq, limit: 30 })) });
  const add = useApiMutation((recordId: string) => post(`/api/groups/${group.id}/members`, { recordIds: [recordId] }), {
    invalidate: [['groups']],
    onSuccess: () => setSearch(''),
  });
  return (
    <Select
      placeholder={t(group.kind === 'contacts' ? 'crm.groupAddContact' : 'crm.groupAddActivity')}
      aria-label={t(group.kind === 'contacts' ? 'crm.groupAddContact' : 'crm.groupAddActivity')}
      searchable
      filter={({ options }) => options}
      searchValue={search}
      onSearchChange={setSearch}
      // Records already in the group (as far as its list is loaded) are not offered again.
      data={(found.data?.items ?? []).filter((x) => !memberIds.has(x.id)).map((x) => ({ value: x.id, label: memberName(x) }))}
      value={null}
      onChange={(v) => v && add.mutate(v)}
      disabled={add.isPending}
      nothingFoundMessage={t('common.none')}
      data-testid="group-add-member"
    />
  );
}

/** "Add to group" on a contact's page: pick one of the contact groups the user sees. */
export function AddToGroupDialog({ contactId, onClose }: { contactId: string; onClose: () => void }) {
  const t = useT();
  const [search, setSearch] = useState('');
  const [groupId, setGroupId] = useState<string | null>(null);
  const dq = useDebounced(search, 250);
  const found = useQuery({ queryKey: ['groups', 'pick', dq], queryFn: () => get<Page<CrmGroup>>(qs('/api/groups', { q: dq, kind: 'contacts', limit: 30 })) });
  const add = useApiMutation(() => post(`/api/groups/${groupId}/members`, { recordIds: [contactId] }), {
    invalidate: [['groups']],
    success: t('crm.addedToGroup'),
    onSuccess: onClose,
  });
  return (
    <Modal opened onClose={onClose} title={t('crm.addToGroup')}>
      <Stack>
        <Select
          label={t('crm.group')}
          searchable
          filter={({ options }) => options}
          searchValue={search}
          onSearchChange={setSearch}
          data={(found.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))}
          value={groupId}
          onChange={setGroupId}
          nothingFoundMessage={t('common.none')}
          data-testid="add-to-group-pick"
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t('common.cancel')}
          </Button>
          <Button disabled={!groupId} loading={add.isPending} onClick={() => add.mutate(undefined)} data-testid="add-to-group-save">
            {t('common.add')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
