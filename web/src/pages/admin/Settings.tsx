// System settings (P3) with an editor per type. Secrets are write-only: the server only says
// whether one is set; the editor never shows a value. File settings (the chat notification sound)
// upload with multipart and clear back to the built-in default with `value: null`.
import { useEffect, useRef, useState } from 'react';
import { Badge, Button, Card, FileButton, Group, NumberInput, PasswordInput, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { IconPlayerPlay, IconUpload, IconX } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, get, put } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, notifyError, notifyOk, useApiMutation } from '../../components/common.js';
import { useT } from '../../i18n/index.js';
import { settingDescription, settingName } from '../../i18n/serverText.js';

export interface Setting {
  code: string;
  name?: string;
  description?: string | null;
  type: 'integer' | 'boolean' | 'string' | 'url' | 'secret' | 'file' | string;
  value?: any;
  defaultValue?: any;
  default?: any;
  isSet?: boolean;
  hasValue?: boolean;
  url?: string | null;
  fileName?: string | null;
}

const isSetOf = (s: Setting) => s.isSet ?? s.hasValue ?? (s.value !== null && s.value !== undefined && s.value !== '');

export function SettingsPage() {
  const t = useT();
  const q = useQuery({ queryKey: ['system-settings'], queryFn: () => get<{ items: Setting[] }>('/api/system-settings') });
  return (
    <>
      <PageHeader title={t('settings.title')} description={t('settings.description')} />
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorState error={q.error} />
      ) : (
        <Card withBorder padding={0}>
          <Table verticalSpacing="md">
            <Table.Tbody>
              {q.data?.items.map((s) => (
                <Table.Tr key={s.code} data-testid={`setting-${s.code}`}>
                  <Table.Td w="40%">
                    <Text fw={600} size="sm">
                      {settingName(t, s)}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {s.code}
                    </Text>
                    {settingDescription(t, s) && (
                      <Text size="xs" c="dimmed">
                        {settingDescription(t, s)}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <SettingEditor setting={s} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      )}
    </>
  );
}

function SettingEditor({ setting: s }: { setting: Setting }) {
  const t = useT();
  const [value, setValue] = useState<any>(s.value ?? '');
  useEffect(() => setValue(s.type === 'secret' ? '' : (s.value ?? '')), [s]);
  const save = useApiMutation((v: unknown) => put(`/api/system-settings/${s.code}`, { value: v }), { invalidate: [['system-settings'], ['chat-settings']], success: t('common.saved') });
  const fileRef = useRef<() => void>(null);
  const qc = useQueryClient();
  const audio = useRef<HTMLAudioElement | null>(null);

  if (s.type === 'boolean') {
    return <Switch checked={!!s.value} onChange={(e) => save.mutate(e.currentTarget.checked)} label={s.value ? t('common.on') : t('common.off')} />;
  }
  if (s.type === 'secret') {
    return (
      <Group gap="xs" wrap="nowrap">
        <Badge color={isSetOf(s) ? 'teal' : 'gray'} variant="light" w={90}>
          {isSetOf(s) ? t('settings.set') : t('settings.notSet')}
        </Badge>
        <PasswordInput placeholder={t('settings.newSecret')} value={value} onChange={(e) => setValue(e.currentTarget.value)} style={{ flex: 1 }} autoComplete="new-password" />
        <Button size="sm" disabled={!value} loading={save.isPending} onClick={() => save.mutate(value)}>
          {t('common.save')}
        </Button>
        {isSetOf(s) && (
          <Button size="sm" variant="subtle" color="red" onClick={() => save.mutate(null)}>
            {t('settings.clear')}
          </Button>
        )}
      </Group>
    );
  }
  if (s.type === 'file') {
    const upload = async (file: File | null) => {
      if (!file) return;
      const fd = new FormData();
      fd.append('file', file, file.name);
      try {
        await api('PUT', `/api/system-settings/${s.code}/file`, fd);
        notifyOk(t('settings.uploaded'));
        await qc.invalidateQueries({ queryKey: ['system-settings'] });
        await qc.invalidateQueries({ queryKey: ['chat-settings'] });
      } catch (e) {
        notifyError(e);
      }
    };
    const url = s.url ?? `/api/system-settings/${s.code}/file`;
    return (
      <Group gap="xs">
        <Badge color={isSetOf(s) ? 'indigo' : 'gray'} variant="light">
          {isSetOf(s) ? (s.fileName ?? s.value?.fileName ?? t('settings.customFile')) : t('settings.builtIn')}
        </Badge>
        {url && (
          <Button size="xs" variant="default" leftSection={<IconPlayerPlay size={14} />} onClick={() => {
              audio.current?.pause();
              audio.current = new Audio(`${url}?v=${Date.now()}`);
              audio.current.play().catch(notifyError);
            }}>
            {t('settings.play')}
          </Button>
        )}
        <FileButton onChange={(f) => void upload(f)} accept="audio/*" resetRef={fileRef}>
          {(props) => (
            <Button size="xs" leftSection={<IconUpload size={14} />} {...props}>
              {t('settings.upload')}
            </Button>
          )}
        </FileButton>
        {isSetOf(s) && (
          <Button size="xs" variant="subtle" color="red" leftSection={<IconX size={14} />} onClick={() => save.mutate(null)}>
            {t('settings.resetDefault')}
          </Button>
        )}
      </Group>
    );
  }
  const dirty = String(value ?? '') !== String(s.value ?? '');
  return (
    <Group gap="xs" wrap="nowrap">
      {s.type === 'integer' ? (
        <NumberInput value={value} onChange={setValue} allowDecimal={false} w={160} />
      ) : (
        <TextInput value={value ?? ''} type={s.type === 'url' ? 'url' : 'text'} onChange={(e) => setValue(e.currentTarget.value)} style={{ flex: 1 }} />
      )}
      <Button size="sm" disabled={!dirty} loading={save.isPending} onClick={() => save.mutate(s.type === 'integer' ? Number(value) : value === '' ? null : value)}>
        {t('common.save')}
      </Button>
      {(s.defaultValue ?? s.default) !== undefined && (s.defaultValue ?? s.default) !== null && (s.defaultValue ?? s.default) !== '' && (
        <Text size="xs" c="dimmed">
          {t('settings.default', { v: String(s.defaultValue ?? s.default ?? '—') })}
        </Text>
      )}
    </Group>
  );
}
