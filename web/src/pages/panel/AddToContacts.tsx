// "Add to contacts" next to the people of a message who have no contact yet (B5: unknown senders
// can enrich contacts). Creating one also links the earlier mail with that address to it.
import { useNavigate } from 'react-router';
import { ActionIcon, Badge, Group, Text, Tooltip } from '@mantine/core';
import { IconUserPlus } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, get, post, qs } from '../../api/client.js';
import { notifyError, useApiMutation } from '../../components/common.js';
import { useT } from '../../i18n/index.js';
import type { EmailDetail, MailAddress } from './mailTypes.js';

interface Lookup {
  items: { email: string; contactId: string | null; own: boolean }[];
}

/** Creates a contact from a mail address; on 409 opens the contact that already has it. */
export function useCreateFromAddress() {
  const t = useT();
  const navigate = useNavigate();
  return useApiMutation((a: { email: string; name?: string }) => post<{ contactId: string }>('/api/contact-suggestions/create', a), {
    invalidate: [['contact-lookup'], ['contact-suggestions'], ['contacts'], ['email']],
    success: t('suggest.added'),
    onError: (e) => {
      if (e instanceof ApiError && e.status === 409 && typeof e.details.contactId === 'string') navigate(`/crm/contacts/${e.details.contactId}`);
      else notifyError(e);
    },
  });
}

export function UnknownParticipants({ email: e }: { email: EmailDetail }) {
  const t = useT();
  const people = new Map<string, MailAddress>();
  for (const a of [...(e.from ? [e.from] : []), ...e.to, ...e.cc]) if (a.address && !people.has(a.address.toLowerCase())) people.set(a.address.toLowerCase(), a);
  const emails = [...people.keys()].slice(0, 50);
  const lookup = useQuery({
    queryKey: ['contact-lookup', emails.join(',')],
    queryFn: () => get<Lookup>(qs('/api/contact-suggestions/lookup', { emails: emails.join(',') })),
    enabled: emails.length > 0,
    staleTime: 60_000,
  });
  const create = useCreateFromAddress();
  const unknown = (lookup.data?.items ?? []).filter((i) => !i.contactId && !i.own);
  if (unknown.length === 0) return null;
  return (
    <Group gap={6} mb="sm" data-testid="unknown-participants">
      <Text size="xs" c="dimmed">
        {t('suggest.notInContacts')}
      </Text>
      {unknown.map((u) => {
        const a = people.get(u.email);
        return (
          <Badge
            key={u.email}
            variant="light"
            color="gray"
            style={{ textTransform: 'none' }}
            rightSection={
              <Tooltip label={t('suggest.add')}>
                <ActionIcon
                  size="xs"
                  variant="subtle"
                  aria-label={`${t('suggest.add')}: ${u.email}`}
                  loading={create.isPending && create.variables?.email === u.email}
                  onClick={() => create.mutate({ email: u.email, name: a?.name || undefined })}
                  data-testid="add-to-contacts"
                >
                  <IconUserPlus size={12} />
                </ActionIcon>
              </Tooltip>
            }
          >
            {a?.name ? `${a.name} <${u.email}>` : u.email}
          </Badge>
        );
      })}
    </Group>
  );
}
