// Tags on a record page (P4): the record's tags with a remove button each, a picker of the tags
// the user can see (GET /api/tags), and a field that creates a personal tag and puts it on the
// record at once. One tag at a time: PUT/DELETE /api/{records}/{id}/tags/{tagId}.
import { useState } from 'react';
import { ActionIcon, Badge, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { IconPlus, IconX } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, del, get, post, put, qs, type Page } from '../../api/client.js';
import { useSession } from '../../api/session.js';
import { notifyError, useApiMutation } from '../../components/common.js';
import { useDebounced } from '../../components/useDebounced.js';
import { useT, type TKey } from '../../i18n/index.js';
import type { Tag, TagRef } from './types.js';

export type TaggableKind = 'contacts' | 'accounts' | 'cases';

/** `canEdit` false (a read-only share): only the user's personal tags can be put on or taken off. */
export function RecordTags({ kind, id, tags, canEdit = true }: { kind: TaggableKind; id: string; tags: TagRef[]; canEdit?: boolean }) {
  const t = useT();
  const { me } = useSession();
  const [search, setSearch] = useState('');
  const dq = useDebounced(search, 200);
  const [newName, setNewName] = useState('');
  const available = useQuery({ queryKey: ['tags', 'pick', dq], queryFn: () => get<Page<Tag>>(qs('/api/tags', { q: dq, limit: 100 })) });
  const refresh = [[kind], ['timeline', kind, id], ['tags']];
  const add = useApiMutation((tagId: string) => put(`/api/${kind}/${id}/tags/${tagId}`), { invalidate: refresh, onSuccess: () => setSearch('') });
  const remove = useApiMutation((tagId: string) => del(`/api/${kind}/${id}/tags/${tagId}`), { invalidate: refresh });
  const create = useApiMutation(
    async (name: string) => {
      let tag: Tag | undefined;
      try {
        tag = await post<Tag>('/api/tags', { name, scope: 'personal' });
      } catch (e) {
        // The user already has a personal tag of that name (409): put that one on the record.
        if (!(e instanceof ApiError) || e.status !== 409) throw e;
        const same = await get<Page<Tag>>(qs('/api/tags', { q: name, scope: 'personal', limit: 100 }));
        tag = same.items.find((x) => x.name.toLowerCase() === name.toLowerCase() && x.ownerId === me?.id);
        if (!tag) throw e;
      }
      await put(`/api/${kind}/${id}/tags/${tag.id}`);
      return tag;
    },
    { invalidate: refresh, onSuccess: () => setNewName(''), onError: notifyError },
  );
  const options = (available.data?.items ?? [])
    .filter((x) => !tags.some((r) => r.id === x.id) && (canEdit || x.scope === 'personal'))
    .map((x) => ({ value: x.id, label: `${x.name} · ${t(`crm.tagScope.${x.scope}` as TKey)}` }));
  return (
    <Stack gap="xs" data-testid="record-tags">
      <Text size="xs" fw={700} c="dimmed" tt="uppercase">
        {t('crm.tags')}
      </Text>
      {tags.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('crm.noTags')}
        </Text>
      ) : (
        <Group gap={6}>
          {tags.map((x) => (
            <Badge
              key={x.id}
              variant="outline"
              color={x.color ?? 'gray'}
              data-testid="record-tag"
              rightSection={
                (canEdit || x.scope === 'personal') && (
                  <ActionIcon size="xs" variant="transparent" color="gray" aria-label={t('crm.removeTag', { name: x.name })} onClick={() => remove.mutate(x.id)} loading={remove.isPending && remove.variables === x.id}>
                    <IconX size={12} />
                  </ActionIcon>
                )
              }
            >
              {x.name}
            </Badge>
          ))}
        </Group>
      )}
      <Select
        aria-label={t('crm.addTag')}
        placeholder={t('crm.addTag')}
        searchable
        filter={({ options: o }) => o}
        searchValue={search}
        onSearchChange={setSearch}
        data={options}
        value={null}
        onChange={(v) => v && add.mutate(v)}
        disabled={add.isPending}
        size="xs"
        data-testid="tag-picker"
      />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (newName.trim()) create.mutate(newName.trim());
        }}
      >
        <Group gap={6} wrap="nowrap">
          <TextInput size="xs" style={{ flex: 1 }} placeholder={t('crm.newPersonalTag')} aria-label={t('crm.newPersonalTag')} value={newName} onChange={(e) => setNewName(e.currentTarget.value)} data-testid="tag-new-name" />
          <Button size="xs" variant="light" type="submit" leftSection={<IconPlus size={14} />} loading={create.isPending} disabled={!newName.trim()} data-testid="tag-create">
            {t('crm.createTag')}
          </Button>
        </Group>
      </form>
    </Stack>
  );
}
