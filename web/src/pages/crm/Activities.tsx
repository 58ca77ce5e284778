import { useState } from 'react';
import { Badge, Button, Card, Checkbox, Group, Modal, SegmentedControl, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { fieldErrors, post } from '../../api/client.js';
import { PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { ListBody, LoadMore, usePagedList } from '../../components/paged.js';
import { useDebounced } from '../../components/useDebounced.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT, type TKey } from '../../i18n/index.js';
import type { Activity } from './types.js';

const STATUS_COLOR: Record<string, string> = { planned: 'blue', 'in-progress': 'orange', done: 'teal', cancelled: 'gray' };

export function ActivitiesPage() {
  const t = useT();
  const lang = useLanguage();
  const [q, setQ] = useState('');
  const [type, setType] = useState('all');
  const dq = useDebounced(q, 250);
  const [creating, setCreating] = useState(false);
  const { query: list, rows } = usePagedList<Activity>(['activities', dq, type], '/api/activities', { q: dq, type: type === 'all' ? '' : type }, { limit: 100 });
  return (
    <>
      <PageHeader
        title={t('crm.activities')}
        description={t('crm.activitiesHint')}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            {t('crm.newActivity')}
          </Button>
        }
      />
      <Card withBorder padding={0}>
        <Group p="md">
          <TextInput leftSection={<IconSearch size={16} />} placeholder={t('common.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={320} />
          <SegmentedControl
            value={type}
            onChange={setType}
            data={[
              { value: 'all', label: t('crm.all') },
              { value: 'task', label: t('crm.activity.task') },
              { value: 'meeting', label: t('crm.activity.meeting') },
            ]}
          />
        </Group>
        <ListBody query={list} empty={rows.length === 0}>
          <Table verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('crm.title')}</Table.Th>
                <Table.Th>{t('crm.type')}</Table.Th>
                <Table.Th>{t('crm.start')}</Table.Th>
                <Table.Th>{t('crm.status')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((a) => (
                <Table.Tr key={a.id} data-testid="activity-row">
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {a.title}
                    </Text>
                    {a.description && (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {a.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={a.type === 'meeting' ? 'grape' : 'indigo'}>
                      {t(`crm.activity.${a.type}` as TKey)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatDateTime(a.start, lang)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="dot" color={STATUS_COLOR[a.status] ?? 'gray'}>
                      {t(`crm.status.${a.status}` as TKey)}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ListBody>
        <LoadMore list={list} testId="activities-more" />
      </Card>
      {creating && <NewActivity onClose={() => setCreating(false)} />}
    </>
  );
}

function NewActivity({ onClose }: { onClose: () => void }) {
  const t = useT();
  const now = new Date();
  const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const [f, setF] = useState({ title: '', description: '', type: 'task', start: local(now), end: local(new Date(now.getTime() + 3600_000)), showInCalendar: false });
  const [errs, setErrs] = useState<Record<string, string>>({});
  const save = useApiMutation(
    () =>
      post('/api/activities', {
        title: f.title,
        description: f.description || null,
        type: f.type,
        start: new Date(f.start).toISOString(),
        end: new Date(f.end).toISOString(),
        showInCalendar: f.showInCalendar,
      }),
    {
      invalidate: [['activities']],
      success: t('common.saved'),
      onSuccess: onClose,
      onError: (e) => {
        setErrs(fieldErrors(e));
        notifyError(e);
      },
    },
  );
  return (
    <Modal opened onClose={onClose} title={t('crm.newActivity')}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(undefined);
        }}
      >
        <Stack>
          <SegmentedControl
            value={f.type}
            onChange={(v) => setF({ ...f, type: v, showInCalendar: v === 'meeting' ? true : f.showInCalendar })}
            data={[
              { value: 'task', label: t('crm.activity.task') },
              { value: 'meeting', label: t('crm.activity.meeting') },
            ]}
          />
          <TextInput label={t('crm.title')} required value={f.title} error={errs.title} onChange={(e) => setF({ ...f, title: e.currentTarget.value })} />
          <Group grow>
            <TextInput label={t('crm.start')} type="datetime-local" value={f.start} error={errs.start} onChange={(e) => setF({ ...f, start: e.currentTarget.value })} />
            <TextInput label={t('crm.end')} type="datetime-local" value={f.end} error={errs.end} onChange={(e) => setF({ ...f, end: e.currentTarget.value })} />
          </Group>
          <Textarea label={t('crm.description')} value={f.description} onChange={(e) => setF({ ...f, description: e.currentTarget.value })} />
          <Checkbox label={t('crm.showInCalendar')} checked={f.showInCalendar} onChange={(e) => setF({ ...f, showInCalendar: e.currentTarget.checked })} />
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
