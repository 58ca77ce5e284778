// Static groups: the list (search by name, filter by kind, Load more) and the form that creates a
// group (name, kind — contacts or activities, fixed once made — description) and edits one.
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Badge, Button, Card, Group, Modal, SegmentedControl, Select, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { fieldErrors, patch, post } from '../../api/client.js';
import { PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { ListBody, LoadMore, usePagedList } from '../../components/paged.js';
import { useDebounced } from '../../components/useDebounced.js';
import { formatWhen } from '../../components/format.js';
import { useLanguage, useT, type TKey } from '../../i18n/index.js';
import { GROUP_KINDS, type CrmGroup } from './types.js';

export function GroupsPage() {
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const [kind, setKind] = useState<string | null>(null);
  const dq = useDebounced(q, 250);
  const [creating, setCreating] = useState(false);
  const { query: list, rows } = usePagedList<CrmGroup>(['groups', dq, kind], '/api/groups', { q: dq, kind });
  return (
    <>
      <PageHeader
        title={t('crm.groups')}
        description={t('crm.groupsHint')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)} data-testid="group-new">
            {t('crm.newGroup')}
          </Button>
        }
      />
      <Card withBorder padding={0}>
        <Group p="md">
          <TextInput leftSection={<IconSearch size={16} />} placeholder={t('common.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={360} data-testid="groups-search" />
          <Select
            aria-label={t('crm.groupKind')}
            placeholder={t('crm.anyGroupKind')}
            clearable
            w={200}
            data={GROUP_KINDS.map((k) => ({ value: k, label: t(`crm.groupKind.${k}` as TKey) }))}
            value={kind}
            onChange={setKind}
          />
        </Group>
        <ListBody query={list} empty={rows.length === 0}>
          <Table highlightOnHover verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('common.name')}</Table.Th>
                <Table.Th>{t('crm.groupKind')}</Table.Th>
                <Table.Th>{t('crm.groupMembers')}</Table.Th>
                <Table.Th>{t('crm.updated')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((g) => (
                <Table.Tr key={g.id} className="list-row" onClick={() => navigate(`/crm/groups/${g.id}`)} data-testid="group-row">
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {g.name}
                    </Text>
                    {g.description && (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {g.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={g.kind === 'contacts' ? 'indigo' : 'grape'}>
                      {t(`crm.groupKind.${g.kind}` as TKey)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{g.memberCount}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {formatWhen(g.updatedAt, lang)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ListBody>
        <LoadMore list={list} testId="groups-more" />
      </Card>
      {creating && <GroupFormModal onClose={() => setCreating(false)} />}
    </>
  );
}

export function GroupFormModal({ existing, onClose }: { existing?: CrmGroup; onClose: () => void }) {
  const t = useT();
  const navigate = useNavigate();
  const [f, setF] = useState({ name: existing?.name ?? '', description: existing?.description ?? '', kind: existing?.kind ?? 'contacts' });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const save = useApiMutation(
    () =>
      existing
        ? patch<CrmGroup>(`/api/groups/${existing.id}`, { name: f.name, description: f.description || null })
        : post<CrmGroup>('/api/groups', { name: f.name, kind: f.kind, description: f.description || null }),
    {
      invalidate: [['groups']],
      onSuccess: (r) => {
        onClose();
        if (!existing) navigate(`/crm/groups/${r.id}`);
      },
      onError: (e) => {
        setErrs(fieldErrors(e));
        notifyError(e);
      },
    },
  );
  return (
    <Modal opened onClose={onClose} title={t(existing ? 'crm.editGroup' : 'crm.newGroup')} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <TextInput label={t('common.name')} required value={f.name} error={errs.name} onChange={(e) => setF({ ...f, name: e.currentTarget.value })} data-testid="group-name" />
          {!existing && (
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                {t('crm.groupKind')}
              </Text>
              <SegmentedControl
                data={GROUP_KINDS.map((k) => ({ value: k, label: t(`crm.groupKind.${k}` as TKey) }))}
                value={f.kind}
                onChange={(v) => setF({ ...f, kind: v as CrmGroup['kind'] })}
                data-testid="group-kind"
              />
              <Text size="xs" c="dimmed">
                {t('crm.groupKindHint')}
              </Text>
            </Stack>
          )}
          <Textarea label={t('crm.description')} autosize minRows={2} maxRows={8} value={f.description} error={errs.description} onChange={(e) => setF({ ...f, description: e.currentTarget.value })} data-testid="group-description" />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="group-save">
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
