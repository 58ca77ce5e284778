// Contacts and accounts lists with search (P4/W1), and a quick "new record" form.
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Avatar, Badge, Button, Card, Group, Modal, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { fieldErrors, get, post, type Page } from '../../api/client.js';
import { PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { ListBody, LoadMore, usePagedList } from '../../components/paged.js';
import { useDebounced } from '../../components/useDebounced.js';
import { useT, type TKey } from '../../i18n/index.js';
import type { Account, Contact } from './types.js';
import { SuggestedContacts } from './SuggestedContacts.js';

type Kind = 'contacts' | 'accounts';

export function RecordsPage({ kind }: { kind: Kind }) {
  const t = useT();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const dq = useDebounced(q, 250);
  const [creating, setCreating] = useState(false);
  const { query: list, rows } = usePagedList<Contact & Account>([kind, dq], `/api/${kind}`, { q: dq });
  const accounts = useQuery({ queryKey: ['accounts', 'all'], queryFn: () => get<Page<Account>>('/api/accounts?limit=200'), enabled: kind === 'contacts' });
  const accountName = (id: string | null) => (id ? (accounts.data?.items.find((a) => a.id === id)?.name ?? '') : '');
  return (
    <>
      <PageHeader
        title={t(kind === 'contacts' ? 'crm.contacts' : 'crm.accounts')}
        description={t(kind === 'contacts' ? 'crm.contactsHint' : 'crm.accountsHint')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            {t(kind === 'contacts' ? 'crm.newContact' : 'crm.newAccount')}
          </Button>
        }
      />
      <Card withBorder padding={0}>
        <Group p="md">
          <TextInput leftSection={<IconSearch size={16} />} placeholder={t('common.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={360} data-testid="records-search" />
        </Group>
        <ListBody query={list} empty={rows.length === 0}>
          <Table highlightOnHover verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('common.name')}</Table.Th>
                {kind === 'contacts' ? (
                  <>
                    <Table.Th>{t('crm.email')}</Table.Th>
                    <Table.Th>{t('crm.account')}</Table.Th>
                    <Table.Th>{t('crm.type')}</Table.Th>
                  </>
                ) : (
                  <>
                    <Table.Th>{t('crm.domain')}</Table.Th>
                    <Table.Th>{t('crm.phone')}</Table.Th>
                  </>
                )}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r) => (
                <Table.Tr key={r.id} className="list-row" onClick={() => navigate(`/crm/${kind}/${r.id}`)}>
                  <Table.Td>
                    <Group gap="sm" wrap="nowrap">
                      <Avatar size={32} radius="xl" color={kind === 'contacts' ? 'indigo' : 'cyan'}>
                        {r.name.slice(0, 1).toUpperCase()}
                      </Avatar>
                      <div>
                        <Text size="sm" fw={600}>
                          {r.name}
                        </Text>
                        {kind === 'contacts' && r.jobTitle && (
                          <Text size="xs" c="dimmed">
                            {r.jobTitle}
                          </Text>
                        )}
                      </div>
                    </Group>
                  </Table.Td>
                  {kind === 'contacts' ? (
                    <>
                      <Table.Td>
                        <Text size="sm">{r.emails?.[0]?.email ?? ''}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{accountName(r.accountId)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge variant="light" color={r.type === 'customer' ? 'teal' : r.type === 'employee' ? 'indigo' : 'gray'}>
                          {t(`crm.type.${r.type}` as TKey)}
                        </Badge>
                      </Table.Td>
                    </>
                  ) : (
                    <>
                      <Table.Td>
                        <Text size="sm">{r.domain ?? ''}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{r.phones?.[0]?.phone ?? ''}</Text>
                      </Table.Td>
                    </>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ListBody>
        <LoadMore list={list} />
      </Card>
      {kind === 'contacts' && <SuggestedContacts />}
      {creating && <NewRecordModal kind={kind} accounts={accounts.data?.items ?? []} onClose={() => setCreating(false)} />}
    </>
  );
}

function NewRecordModal({ kind, accounts, onClose }: { kind: Kind; accounts: Account[]; onClose: () => void }) {
  const t = useT();
  const navigate = useNavigate();
  const [f, setF] = useState({ name: '', email: '', phone: '', jobTitle: '', accountId: null as string | null, type: 'customer', domain: '' });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const save = useApiMutation(
    () =>
      kind === 'contacts'
        ? post<{ id: string }>('/api/contacts', {
            name: f.name,
            emails: f.email ? [{ email: f.email, isPrimary: true }] : [],
            phones: f.phone ? [{ phone: f.phone, isPrimary: true }] : [],
            jobTitle: f.jobTitle || null,
            accountId: f.accountId,
            type: f.type,
          })
        : post<{ id: string }>('/api/accounts', { name: f.name, domain: f.domain || null, phones: f.phone ? [{ phone: f.phone, isPrimary: true }] : [] }),
    {
      invalidate: [[kind]],
      onSuccess: (r) => navigate(`/crm/${kind}/${r.id}`),
      onError: (e) => {
        setErrs(fieldErrors(e));
        notifyError(e);
      },
    },
  );
  return (
    <Modal opened onClose={onClose} title={t(kind === 'contacts' ? 'crm.newContact' : 'crm.newAccount')}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <TextInput label={t('common.name')} required value={f.name} error={errs.name} onChange={(e) => setF({ ...f, name: e.currentTarget.value })} />
          {kind === 'contacts' ? (
            <>
              <TextInput label={t('crm.email')} type="email" value={f.email} error={errs.email} onChange={(e) => setF({ ...f, email: e.currentTarget.value })} />
              <TextInput label={t('crm.jobTitle')} value={f.jobTitle} onChange={(e) => setF({ ...f, jobTitle: e.currentTarget.value })} />
              <Select label={t('crm.account')} clearable searchable data={accounts.map((a) => ({ value: a.id, label: a.name }))} value={f.accountId} onChange={(v) => setF({ ...f, accountId: v })} />
              <Select
                label={t('crm.type')}
                allowDeselect={false}
                data={(['customer', 'employee', 'other'] as const).map((x) => ({ value: x, label: t(`crm.type.${x}`) }))}
                value={f.type}
                onChange={(v) => setF({ ...f, type: v ?? 'customer' })}
              />
            </>
          ) : (
            <TextInput label={t('crm.domain')} placeholder="example.com" value={f.domain} error={errs.domain} onChange={(e) => setF({ ...f, domain: e.currentTarget.value })} />
          )}
          <TextInput label={t('crm.phone')} value={f.phone} onChange={(e) => setF({ ...f, phone: e.currentTarget.value })} />
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
