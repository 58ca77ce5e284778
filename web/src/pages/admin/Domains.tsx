import { useState } from 'react';
import { Button, Card, Group, Select, Table, Text, TextInput, ActionIcon } from '@mantine/core';
import { IconPlus, IconSearch, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { del, get, post, qs, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, useApiMutation } from '../../components/common.js';
import { useT } from '../../i18n/index.js';
import { useProviders } from './Providers.js';

interface Domain {
  domain: string;
  providerId: string;
  providerName?: string;
}

export function DomainsPage() {
  const t = useT();
  const [q, setQ] = useState('');
  const list = useQuery({ queryKey: ['mail-provider-domains', 'all', q], queryFn: () => get<Page<Domain>>(qs('/api/mail-provider-domains', { q, limit: 500 })) });
  const providers = useProviders();
  const [domain, setDomain] = useState('');
  const [providerId, setProviderId] = useState<string | null>(null);
  const nameOf = (id: string) => providers.data?.items.find((p) => p.id === id)?.name ?? '…';
  const add = useApiMutation(() => post('/api/mail-provider-domains', { domain: domain.trim().toLowerCase(), providerId }), {
    invalidate: [['mail-provider-domains']],
    success: t('common.saved'),
    onSuccess: () => setDomain(''),
  });
  const remove = useApiMutation((d: string) => del(`/api/mail-provider-domains/${encodeURIComponent(d)}`), { invalidate: [['mail-provider-domains']], success: t('common.deleted') });
  const items = (list.data?.items ?? []).filter((d) => !q || d.domain.includes(q.toLowerCase()));
  return (
    <>
      <PageHeader title={t('domains.title')} description={t('domains.description')} />
      <Card withBorder mb="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (domain && providerId) add.mutate(undefined);
          }}
        >
          <Group align="flex-end">
            <TextInput label={t('domains.domain')} placeholder="example.com" value={domain} onChange={(e) => setDomain(e.currentTarget.value)} w={260} />
            <Select label={t('domains.provider')} data={(providers.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))} value={providerId} onChange={setProviderId} searchable w={260} />
            <Button type="submit" leftSection={<IconPlus size={16} />} disabled={!domain || !providerId} loading={add.isPending}>
              {t('common.add')}
            </Button>
          </Group>
        </form>
      </Card>
      <Card withBorder padding={0}>
        <Group p="md">
          <TextInput leftSection={<IconSearch size={16} />} placeholder={t('common.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={320} />
        </Group>
        {list.isLoading ? (
          <Loading />
        ) : list.error ? (
          <ErrorState error={list.error} />
        ) : (
          <Table verticalSpacing="xs" highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('domains.domain')}</Table.Th>
                <Table.Th>{t('domains.provider')}</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((d) => (
                <Table.Tr key={d.domain}>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {d.domain}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{d.providerName ?? nameOf(d.providerId)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <ActionIcon variant="subtle" color="red" aria-label={t('common.delete')} onClick={() => remove.mutate(d.domain)}>
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </>
  );
}
