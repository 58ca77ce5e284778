import { Badge, Button, Card, Group, Table, Text, ActionIcon, Tooltip } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { del, get, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, confirmAction, useApiMutation } from '../../components/common.js';
import { useT } from '../../i18n/index.js';
import type { Provider } from './providerModel.js';

export function useProviders() {
  return useQuery({ queryKey: ['mail-providers'], queryFn: () => get<Page<Provider>>('/api/mail-providers?limit=200') });
}

export function providerHost(p: Provider): string {
  return p.type === 'exchange' ? (p.exchange?.serviceAddress ?? '') : [p.imap?.host, p.smtp?.host].filter(Boolean).join(' · ');
}

export function ProvidersPage() {
  const t = useT();
  const navigate = useNavigate();
  const q = useProviders();
  const remove = useApiMutation((p: Provider) => del(`/api/mail-providers/${p.id}`), { invalidate: [['mail-providers']], success: t('common.deleted') });
  return (
    <>
      <PageHeader
        title={t('providers.title')}
        description={t('providers.description')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => navigate('/admin/mail-providers/new')}>
            {t('providers.add')}
          </Button>
        }
      />
      <Card withBorder padding={0}>
        {q.isLoading ? (
          <Loading />
        ) : q.error ? (
          <ErrorState error={q.error} />
        ) : (
          <Table highlightOnHover verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('providers.name')}</Table.Th>
                <Table.Th>{t('providers.type')}</Table.Th>
                <Table.Th>{t('providers.servers')}</Table.Th>
                <Table.Th>{t('providers.auth')}</Table.Th>
                <Table.Th>{t('providers.mailboxes')}</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {q.data?.items.map((p) => (
                <Table.Tr key={p.id} className="list-row" onClick={() => navigate(`/admin/mail-providers/${p.id}`)} data-testid="provider-row">
                  <Table.Td>
                    <Group gap={6}>
                      <Text fw={600} size="sm">
                        {p.name}
                      </Text>
                      {p.preconfigured && (
                        <Badge size="xs" variant="dot" color="gray">
                          {t('providers.preconfigured')}
                        </Badge>
                      )}
                    </Group>
                    {p.domains && p.domains.length > 0 && (
                      <Text size="xs" c="dimmed">
                        {p.domains.slice(0, 4).join(', ')}
                        {p.domains.length > 4 ? ' …' : ''}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" tt="none" color={p.type === 'exchange' ? 'cyan' : 'indigo'}>
                      {p.type === 'exchange' ? 'Exchange' : 'IMAP/SMTP'}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {providerHost(p)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="outline" tt="none" color={p.authMethod === 'oauth2' ? 'grape' : 'gray'}>
                      {p.authMethod === 'oauth2' ? 'OAuth 2.0' : t('providers.basicShort')}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{p.mailboxCount}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Tooltip label={t('common.delete')}>
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={t('common.delete')}
                        onClick={(e) => {
                          e.stopPropagation();
                          confirmAction({
                            title: t('providers.deleteTitle'),
                            message: t('providers.deleteText', { name: p.name }),
                            confirm: t('common.delete'),
                            cancel: t('common.cancel'),
                            danger: true,
                            onConfirm: () => remove.mutate(p),
                          });
                        }}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Tooltip>
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
