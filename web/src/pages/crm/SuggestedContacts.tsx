// "Suggested contacts" on the Contacts page (B5): people the user exchanges mail with who are not
// contacts yet, most frequent first; create a contact (linking their earlier mail) or dismiss.
import { Button, Card, Group, Table, Text, Title } from '@mantine/core';
import { IconUserPlus, IconX } from '@tabler/icons-react';
import { post } from '../../api/client.js';
import { useApiMutation } from '../../components/common.js';
import { LoadMore, usePagedList } from '../../components/paged.js';
import { formatWhen } from '../../components/format.js';
import { useLanguage, useT } from '../../i18n/index.js';
import { useCreateFromAddress } from '../panel/AddToContacts.js';

interface Suggestion {
  email: string;
  name: string | null;
  messageCount: number;
  lastSeenAt: string;
}

export function SuggestedContacts() {
  const t = useT();
  const lang = useLanguage();
  const { query: list, rows } = usePagedList<Suggestion>(['contact-suggestions'], '/api/contact-suggestions', {}, { limit: 10 });
  const create = useCreateFromAddress();
  const dismiss = useApiMutation((email: string) => post('/api/contact-suggestions/dismiss', { email }), { invalidate: [['contact-suggestions']], success: t('suggest.dismissed') });
  // Quiet when there is nothing to suggest (or no mail module): this is an extra, not the page.
  if (rows.length === 0) return null;
  return (
    <Card withBorder padding={0} mt="lg" data-testid="suggested-contacts">
      <div style={{ padding: 'var(--mantine-spacing-md)' }}>
        <Title order={5}>{t('suggest.title')}</Title>
        <Text size="sm" c="dimmed">
          {t('suggest.hint')}
        </Text>
      </div>
      <Table verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('common.name')}</Table.Th>
            <Table.Th>{t('crm.email')}</Table.Th>
            <Table.Th>{t('suggest.messages')}</Table.Th>
            <Table.Th>{t('suggest.lastSeen')}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((s) => (
            <Table.Tr key={s.email}>
              <Table.Td>
                <Text size="sm" fw={600}>
                  {s.name ?? ''}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{s.email}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{s.messageCount}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{formatWhen(s.lastSeenAt, lang)}</Text>
              </Table.Td>
              <Table.Td>
                <Group gap={6} justify="flex-end" wrap="nowrap">
                  <Button
                    size="xs"
                    variant="light"
                    leftSection={<IconUserPlus size={14} />}
                    loading={create.isPending && create.variables?.email === s.email}
                    onClick={() => create.mutate({ email: s.email, name: s.name ?? undefined })}
                  >
                    {t('suggest.create')}
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="gray"
                    leftSection={<IconX size={14} />}
                    loading={dismiss.isPending && dismiss.variables === s.email}
                    onClick={() => dismiss.mutate(s.email)}
                  >
                    {t('suggest.dismiss')}
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <LoadMore list={list} size="xs" />
    </Card>
  );
}
