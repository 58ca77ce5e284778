// Mailbox settings (B3, B4, B6): load period, auto-load, all/selected folders with a folder picker,
// send on/off, default sender, alias, signature with images; sync status; password; removal.
import { useEffect, useMemo, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Alert, Anchor, Badge, Button, Card, Checkbox, Grid, Group, PasswordInput, Radio, ScrollArea, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { IconArrowLeft, IconFolder, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { errorText, fieldErrors, get, patch, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { SignatureEditor } from '../../components/SignatureEditor.js';
import { useT, type TKey } from '../../i18n/index.js';
import { LOAD_PERIODS, type Folder, type Mailbox, type MailboxSettings } from './mailboxTypes.js';
import { SyncStatusCard } from './SyncStatusCard.js';
import { RemoveMailbox } from './Mailboxes.js';

export function MailboxSettingsPage() {
  const { id } = useParams();
  const q = useQuery({ queryKey: ['mailboxes', id], queryFn: () => get<Mailbox>(`/api/mailboxes/${id}`) });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  return <MailboxSettingsForm mailbox={q.data!} key={q.data!.id + q.data!.updatedAt} />;
}

function MailboxSettingsForm({ mailbox: m }: { mailbox: Mailbox }) {
  const t = useT();
  const navigate = useNavigate();
  const [s, setS] = useState<MailboxSettings>(m.settings);
  // What "unchanged" means: the server's settings, plus the server's folder selection adopted by the
  // picker when the settings name none (adopting it is not a change, so Save stays off).
  const [base, setBase] = useState<MailboxSettings>(m.settings);
  const [errs, setErrs] = useState<Record<string, string>>({});
  const [removing, setRemoving] = useState(false);
  const set = (p: Partial<MailboxSettings>) => setS((x) => ({ ...x, ...p }));
  const adoptServerSelection = (selectedFolders: string[]) => {
    setS((x) => (x.selectedFolders.length ? x : { ...x, selectedFolders }));
    setBase((x) => (x.selectedFolders.length ? x : { ...x, selectedFolders }));
  };
  const dirty = JSON.stringify(s) !== JSON.stringify(base);
  const save = useApiMutation(() => patch<Mailbox>(`/api/mailboxes/${m.id}`, s), {
    invalidate: [['mailboxes'], ['sync-status', m.id]],
    success: t('common.saved'),
    onError: (e) => {
      setErrs(fieldErrors(e));
      notifyError(e);
    },
  });

  return (
    <>
      <Anchor size="sm" onClick={() => navigate('/profile/mailboxes')} mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
        <IconArrowLeft size={14} /> {t('nav.myMailboxes')}
      </Anchor>
      <PageHeader
        title={m.email}
        description={`${m.providerName} · ${m.login}`}
        actions={
          <>
            <Button variant="default" onClick={() => navigate(`/panel/email?mailboxId=${m.id}`)}>
              {t('mailbox.openMail')}
            </Button>
            <Button disabled={!dirty} loading={save.isPending} onClick={() => save.mutate(undefined)} data-testid="mailbox-save">
              {t('common.save')}
            </Button>
          </>
        }
      />
      {m.status === 'needs-reauth' && (
        <Alert color="orange" mb="md" title={t('mailbox.needsReauth')}>
          {m.statusReason ?? t('mailbox.needsReauthText')}
        </Alert>
      )}
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            <Card withBorder>
              <Title order={5} mb="sm">
                {t('mailbox.loadSettings')}
              </Title>
              <Stack>
                <Select
                  label={t('mailbox.loadPeriod')}
                  description={t('mailbox.loadPeriodHint')}
                  allowDeselect={false}
                  data={LOAD_PERIODS.map((p) => ({ value: p, label: t(`period.${p}` as TKey) }))}
                  value={s.loadPeriod}
                  error={errs.loadPeriod}
                  onChange={(v) => v && set({ loadPeriod: v as MailboxSettings['loadPeriod'] })}
                  w={280}
                />
                <Switch label={t('mailbox.autoLoad')} description={t('mailbox.autoLoadHint')} checked={s.autoLoad} onChange={(e) => set({ autoLoad: e.currentTarget.checked })} />
                <Radio.Group
                  label={t('mailbox.folders')}
                  value={s.allFolders ? 'all' : 'selected'}
                  onChange={(v) => set({ allFolders: v === 'all' })}
                >
                  <Group mt={6}>
                    <Radio value="all" label={t('mailbox.allFolders')} />
                    <Radio value="selected" label={t('mailbox.selectedFolders')} data-testid="selected-folders" />
                  </Group>
                </Radio.Group>
                {!s.allFolders && <FolderPicker mailboxId={m.id} selected={s.selectedFolders} onChange={(selectedFolders) => set({ selectedFolders })} onServerSelection={adoptServerSelection} error={errs.selectedFolders} />}
              </Stack>
            </Card>
            <Card withBorder>
              <Title order={5} mb="sm">
                {t('mailbox.sendSettings')}
              </Title>
              <Stack>
                <Switch label={t('mailbox.sendEnabled')} description={t('mailbox.sendEnabledHint')} checked={s.sendEnabled} onChange={(e) => set({ sendEnabled: e.currentTarget.checked })} />
                <Group grow align="flex-start">
                  <TextInput label={t('mailbox.defaultSender')} placeholder={m.email} value={s.defaultSender ?? ''} error={errs.defaultSender} disabled={!s.sendEnabled} onChange={(e) => set({ defaultSender: e.currentTarget.value || null })} />
                  <TextInput label={t('mailbox.alias')} placeholder={t('mailbox.aliasPlaceholder')} value={s.alias ?? ''} error={errs.alias} disabled={!s.sendEnabled} onChange={(e) => set({ alias: e.currentTarget.value || null })} />
                </Group>
                <Switch label={t('mailbox.useSignature')} checked={s.useSignature} onChange={(e) => set({ useSignature: e.currentTarget.checked })} />
                <div>
                  <Text size="sm" fw={500} mb={2}>
                    {t('mailbox.signature')}
                  </Text>
                  <Text size="xs" c="dimmed" mb={6}>
                    {t('mailbox.signatureHint')}
                  </Text>
                  <SignatureEditor value={s.signatureHtml ?? ''} onChange={(html) => set({ signatureHtml: html || null })} onError={(msg) => notifyError(new Error(msg))} />
                  {errs.signatureHtml && (
                    <Text c="red" size="sm">
                      {errs.signatureHtml}
                    </Text>
                  )}
                </div>
              </Stack>
            </Card>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <SyncStatusCard mailboxId={m.id} />
            <PasswordCard mailbox={m} />
            <Card withBorder>
              <Title order={5} mb="xs">
                {t('mailbox.remove')}
              </Title>
              <Text size="sm" c="dimmed" mb="sm">
                {t('mailbox.removeText')}
              </Text>
              <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => setRemoving(true)}>
                {t('mailbox.remove')}
              </Button>
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
      {removing && <RemoveMailbox mailbox={m} onClose={() => setRemoving(false)} onRemoved={() => navigate('/profile/mailboxes')} />}
    </>
  );
}

function FolderPicker({
  mailboxId,
  selected,
  onChange,
  onServerSelection,
  error,
}: {
  mailboxId: string;
  selected: string[];
  onChange: (v: string[]) => void;
  onServerSelection: (v: string[]) => void;
  error?: string;
}) {
  const t = useT();
  const q = useQuery({ queryKey: ['folders', mailboxId], queryFn: () => get<Page<Folder> | Folder[]>(`/api/mailboxes/${mailboxId}/folders`) });
  const folders = useMemo(() => (Array.isArray(q.data) ? q.data : (q.data?.items ?? [])), [q.data]);
  const [filter, setFilter] = useState('');
  // `selected` starts as the server's selection: the mailbox settings, or — when they name no
  // folder — the folders the server marks as loaded. Adopting that is not an edit (onChange is for
  // the user's clicks only), so opening the picker never marks the form as changed.
  useEffect(() => {
    if (selected.length === 0 && folders.some((f) => f.selected)) onServerSelection(folders.filter((f) => f.selected).map((f) => f.path));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [folders]);
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  const delim = (f: Folder) => f.delimiter ?? (f.path.includes('/') ? '/' : '.');
  const depth = (f: Folder) => f.path.split(delim(f)).length - 1;
  const leaf = (f: Folder) => f.name ?? f.path.split(delim(f)).pop() ?? f.path;
  const shown = folders.filter((f) => !filter || f.path.toLowerCase().includes(filter.toLowerCase()));
  return (
    <Card withBorder padding="sm" bg="gray.0" data-testid="folder-picker">
      <Group justify="space-between" mb="xs">
        <Text size="sm" fw={500}>
          {t('mailbox.pickFolders')}
        </Text>
        <Badge variant="light">{t('mailbox.nSelected', { n: selected.length })}</Badge>
      </Group>
      <Text size="xs" c="dimmed" mb="xs">
        {t('mailbox.subfoldersHint')}
      </Text>
      {folders.length > 12 && <TextInput size="xs" placeholder={t('common.search')} value={filter} onChange={(e) => setFilter(e.currentTarget.value)} mb="xs" />}
      <ScrollArea.Autosize mah={260}>
        <Stack gap={6}>
          {shown.map((f) => (
            <Checkbox
              key={f.path}
              style={{ paddingLeft: depth(f) * 18 }}
              label={
                <Group gap={6} wrap="nowrap">
                  <IconFolder size={14} />
                  <span>{leaf(f)}</span>
                  {f.specialUse && (
                    <Badge size="xs" variant="outline" color="gray">
                      {f.specialUse.replace('\\', '')}
                    </Badge>
                  )}
                </Group>
              }
              disabled={f.selectable === false}
              checked={selected.includes(f.path)}
              onChange={(e) => onChange(e.currentTarget.checked ? [...selected, f.path] : selected.filter((p) => p !== f.path))}
            />
          ))}
        </Stack>
      </ScrollArea.Autosize>
      {error && (
        <Text c="red" size="sm">
          {error}
        </Text>
      )}
    </Card>
  );
}

function PasswordCard({ mailbox: m }: { mailbox: Mailbox }) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<string | undefined>();
  const save = useApiMutation(() => patch(`/api/mailboxes/${m.id}`, { password }), {
    invalidate: [['mailboxes']],
    success: t('mailbox.passwordVerified'),
    onSuccess: () => setPassword(''),
    onError: (e) => setErr(fieldErrors(e).password ?? errorText(e)),
  });
  return (
    <Card withBorder>
      <Title order={5} mb="xs">
        {t('login.password')}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t('mailbox.passwordChangeHint')}
      </Text>
      <Group align="flex-start" gap="xs">
        <PasswordInput
          placeholder={t('settings.newSecret')}
          value={password}
          error={err}
          onChange={(e) => {
            setPassword(e.currentTarget.value);
            setErr(undefined);
          }}
          style={{ flex: 1 }}
          autoComplete="new-password"
        />
        <Button variant="light" disabled={!password} loading={save.isPending} onClick={() => save.mutate(undefined)}>
          {t('mailbox.verifyAndSave')}
        </Button>
      </Group>
    </Card>
  );
}
