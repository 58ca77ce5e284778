// Cases (P4): the list with search (subject or number) and status filter, paged with "Load more";
// the form that creates a case and edits one (subject, description, status, priority, contact,
// account — the fields of caseCreate/casePatch).
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Badge, Button, Card, Group, Modal, Select, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { fieldErrors, get, patch, post, qs, type Page } from '../../api/client.js';
import { PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { ListBody, LoadMore, usePagedList } from '../../components/paged.js';
import { useDebounced } from '../../components/useDebounced.js';
import { formatWhen } from '../../components/format.js';
import { useLanguage, useT, type TKey } from '../../i18n/index.js';
import { CASE_PRIORITIES, CASE_STATUSES, type Account, type Case, type Contact } from './types.js';

export const CASE_STATUS_COLOR: Record<string, string> = { new: 'blue', 'in-progress': 'orange', waiting: 'yellow', resolved: 'teal', closed: 'gray' };
export const CASE_PRIORITY_COLOR: Record<string, string> = { low: 'gray', medium: 'blue', high: 'orange', critical: 'red' };

export function CasesPage() {
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const dq = useDebounced(q, 250);
  const [creating, setCreating] = useState(false);
  const { query: list, rows } = usePagedList<Case>(['cases', dq, status], '/api/cases', { q: dq, status });
  return (
    <>
      <PageHeader
        title={t('crm.cases')}
        description={t('crm.casesHint')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)} data-testid="case-new">
            {t('crm.newCase')}
          </Button>
        }
      />
      <Card withBorder padding={0}>
        <Group p="md">
          <TextInput leftSection={<IconSearch size={16} />} placeholder={t('common.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={360} data-testid="cases-search" />
          <Select
            aria-label={t('crm.status')}
            placeholder={t('crm.anyStatus')}
            clearable
            w={200}
            data={CASE_STATUSES.map((s) => ({ value: s, label: t(`crm.status.${s}` as TKey) }))}
            value={status}
            onChange={setStatus}
          />
        </Group>
        <ListBody query={list} empty={rows.length === 0}>
          <Table highlightOnHover verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={70}>{t('crm.number')}</Table.Th>
                <Table.Th>{t('crm.subject')}</Table.Th>
                <Table.Th>{t('crm.status')}</Table.Th>
                <Table.Th>{t('crm.priority')}</Table.Th>
                <Table.Th>{t('crm.updated')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((c) => (
                <Table.Tr key={c.id} className="list-row" onClick={() => navigate(`/crm/cases/${c.id}`)} data-testid="case-row">
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      #{c.number}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {c.subject}
                    </Text>
                    {c.tags.length > 0 && (
                      <Group gap={4} mt={2}>
                        {c.tags.map((x) => (
                          <Badge key={x.id} size="xs" variant="outline" color={x.color ?? 'gray'}>
                            {x.name}
                          </Badge>
                        ))}
                      </Group>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={CASE_STATUS_COLOR[c.status]}>
                      {t(`crm.status.${c.status}` as TKey)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="dot" color={CASE_PRIORITY_COLOR[c.priority]}>
                      {t(`crm.priority.${c.priority}` as TKey)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {formatWhen(c.updatedAt, lang)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ListBody>
        <LoadMore list={list} testId="cases-more" />
      </Card>
      {creating && <CaseFormModal onClose={() => setCreating(false)} />}
    </>
  );
}

/** A contact or account picker that searches on the server (lists can be long). */
function RecordSelect({ kind, label, value, onChange, error }: { kind: 'contacts' | 'accounts'; label: string; value: string | null; onChange: (v: string | null) => void; error?: string }) {
  const [search, setSearch] = useState('');
  const dq = useDebounced(search, 250);
  const found = useQuery({ queryKey: [kind, 'pick', dq], queryFn: () => get<Page<Contact | Account>>(qs(`/api/${kind}`, { q: dq, limit: 30 })) });
  const current = useQuery({ queryKey: [kind, 'one', value], queryFn: () => get<Contact | Account>(`/api/${kind}/${value}`), enabled: !!value, retry: false });
  const items = [...(found.data?.items ?? [])];
  if (current.data && !items.some((x) => x.id === current.data!.id)) items.unshift(current.data);
  return (
    <Select
      label={label}
      clearable
      searchable
      filter={({ options }) => options}
      searchValue={search}
      onSearchChange={setSearch}
      data={items.map((x) => ({ value: x.id, label: x.name }))}
      value={value}
      onChange={onChange}
      error={error}
    />
  );
}

export function CaseFormModal({ existing, onClose }: { existing?: Case; onClose: () => void }) {
  const t = useT();
  const navigate = useNavigate();
  const [f, setF] = useState({
    subject: existing?.subject ?? '',
    description: existing?.description ?? '',
    status: existing?.status ?? 'new',
    priority: existing?.priority ?? 'medium',
    contactId: existing?.contactId ?? null,
    accountId: existing?.accountId ?? null,
  });
  const [errs, setErrs] = useState<Record<string, string>>({});
  // A new case about a contact takes the contact's account unless one is chosen (so no null then).
  const body = () => ({ subject: f.subject, description: f.description || null, status: f.status, priority: f.priority, contactId: f.contactId, accountId: existing ? f.accountId : (f.accountId ?? undefined) });
  const save = useApiMutation(() => (existing ? patch<Case>(`/api/cases/${existing.id}`, body()) : post<Case>('/api/cases', body())), {
    invalidate: [['cases'], ['timeline', 'cases']],
    onSuccess: (r) => {
      onClose();
      if (!existing) navigate(`/crm/cases/${r.id}`);
    },
    onError: (e) => {
      setErrs(fieldErrors(e));
      notifyError(e);
    },
  });
  return (
    <Modal opened onClose={onClose} title={t(existing ? 'crm.editCase' : 'crm.newCase')} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <TextInput label={t('crm.subject')} required value={f.subject} error={errs.subject} onChange={(e) => setF({ ...f, subject: e.currentTarget.value })} data-testid="case-subject" />
          <Textarea label={t('crm.description')} autosize minRows={3} maxRows={12} value={f.description} error={errs.description} onChange={(e) => setF({ ...f, description: e.currentTarget.value })} />
          <Group grow>
            <Select
              label={t('crm.status')}
              allowDeselect={false}
              data={CASE_STATUSES.map((s) => ({ value: s, label: t(`crm.status.${s}` as TKey) }))}
              value={f.status}
              onChange={(v) => setF({ ...f, status: (v ?? 'new') as Case['status'] })}
            />
            <Select
              label={t('crm.priority')}
              allowDeselect={false}
              data={CASE_PRIORITIES.map((p) => ({ value: p, label: t(`crm.priority.${p}` as TKey) }))}
              value={f.priority}
              onChange={(v) => setF({ ...f, priority: (v ?? 'medium') as Case['priority'] })}
            />
          </Group>
          <Group grow>
            <RecordSelect kind="contacts" label={t('crm.contact')} value={f.contactId} error={errs.contactId} onChange={(v) => setF({ ...f, contactId: v })} />
            <RecordSelect kind="accounts" label={t('crm.account')} value={f.accountId} error={errs.accountId} onChange={(v) => setF({ ...f, accountId: v })} />
          </Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="case-save">
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
