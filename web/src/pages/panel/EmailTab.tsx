// Email tab of the communication panel: mail of my mailboxes grouped in threads, the reading pane
// with the whole thread, attachments and reply / reply-all / forward; new mail arrives live.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { ActionIcon, Anchor, Avatar, Badge, Box, Button, Card, Center, Group, Loader, Paper, ScrollArea, Select, Stack, Text, TextInput, ThemeIcon, Title, Tooltip } from '@mantine/core';
import { IconArrowBackUp, IconArrowForwardUp, IconArrowBackUpDouble, IconMailOpened, IconPaperclip, IconPencilPlus, IconSearch, IconDownload, IconInbox, IconMail } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { get, patch, qs, type Page } from '../../api/client.js';
import { ErrorState, Loading, notifyError } from '../../components/common.js';
import { LoadMore, usePagedList } from '../../components/paged.js';
import { MailBody } from '../../components/MailBody.js';
import { formatDateTime, formatSize, formatWhen } from '../../components/format.js';
import { useDebounced } from '../../components/useDebounced.js';
import { useLanguage, useT } from '../../i18n/index.js';
import { useMailboxes } from '../profile/Mailboxes.js';
import { ComposeModal, type ComposeMode } from './Compose.js';
import { addr, who, type EmailDetail, type EmailSummary } from './mailTypes.js';
import { UnknownParticipants } from './AddToContacts.js';

const PANE_HEIGHT = 'calc(100vh - 60px - 2 * var(--mantine-spacing-lg) - 56px)';

interface Thread {
  threadId: string;
  latest: EmailSummary;
  count: number;
  unread: boolean;
  hasAttachments: boolean;
}

function threadsOf(items: EmailSummary[]): Thread[] {
  const map = new Map<string, Thread>();
  for (const e of items) {
    const th = map.get(e.threadId);
    const unread = e.direction === 'in' && !e.flags.includes('\\Seen');
    if (!th) map.set(e.threadId, { threadId: e.threadId, latest: e, count: 1, unread, hasAttachments: e.hasAttachments });
    else {
      th.count++;
      th.unread ||= unread;
      th.hasAttachments ||= e.hasAttachments;
    }
  }
  return [...map.values()];
}

export function EmailTab() {
  const t = useT();
  const lang = useLanguage();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const mailboxes = useMailboxes();
  const mailboxId = params.get('mailboxId');
  const folder = params.get('folder');
  const openId = params.get('id');
  const folders = useQuery({
    queryKey: ['folders', mailboxId],
    queryFn: () => get<{ items: { path: string; specialUse: string | null; selected: boolean }[] }>(`/api/mailboxes/${mailboxId}/folders`),
    enabled: !!mailboxId,
  });
  const setParam = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    next.delete('id');
    if (k === 'mailboxId') next.delete('folder');
    setParams(next);
  };
  const [q, setQ] = useState('');
  const dq = useDebounced(q, 300);
  const [compose, setCompose] = useState<{ mode: ComposeMode; source?: EmailDetail | null } | null>(null);

  const { query: list } = usePagedList<EmailSummary>(['emails', mailboxId, folder, dq], '/api/emails', { mailboxId, folder, q: dq }, { limit: 100, refetchInterval: 60_000 });
  const threads = useMemo(() => threadsOf(list.data?.pages.flatMap((p) => p.items) ?? []), [list.data]);
  const open = (e: EmailSummary) => {
    const next = new URLSearchParams(params);
    next.set('id', e.id);
    setParams(next, { replace: true });
  };
  const mailboxName = (id: string) => mailboxes.data?.items.find((m) => m.id === id)?.email ?? '';
  const multi = (mailboxes.data?.items.length ?? 0) > 1;

  if (mailboxes.data && mailboxes.data.items.length === 0) {
    return (
      <Card withBorder p="xl">
        <Stack align="center" gap="sm">
          <ThemeIcon size={56} radius="xl" variant="light">
            <IconInbox size={28} />
          </ThemeIcon>
          <Text fw={600}>{t('mailbox.none')}</Text>
          <Text c="dimmed" size="sm" ta="center" maw={420}>
            {t('mailbox.noneHint')}
          </Text>
          <Button onClick={() => navigate('/profile/mailboxes/new')}>
            {t('mailbox.add')}
          </Button>
        </Stack>
      </Card>
    );
  }

  return (
    <Group align="stretch" gap="md" wrap="nowrap">
      <Paper withBorder w={420} miw={340} style={{ display: 'flex', flexDirection: 'column', height: PANE_HEIGHT }}>
        <Stack gap="xs" p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }}>
          <Group gap="xs" wrap="nowrap">
            <Select
              size="xs"
              style={{ flex: 1 }}
              data={[{ value: '', label: t('mail.allMailboxes') }, ...(mailboxes.data?.items ?? []).map((m) => ({ value: m.id, label: m.email }))]}
              value={mailboxId ?? ''}
              allowDeselect={false}
              onChange={(v) => setParam('mailboxId', v || null)}
              aria-label={t('mail.mailbox')}
            />
            {mailboxId && (folders.data?.items.length ?? 0) > 0 && (
              <Select
                size="xs"
                w={130}
                data={[{ value: '', label: t('mail.allFolders') }, ...(folders.data?.items ?? []).filter((f) => f.selected).map((f) => ({ value: f.path, label: f.path }))]}
                value={folder ?? ''}
                allowDeselect={false}
                onChange={(v) => setParam('folder', v || null)}
                aria-label={t('mailbox.folders')}
              />
            )}
            <Button size="xs" leftSection={<IconPencilPlus size={14} />} onClick={() => setCompose({ mode: 'new' })} data-testid="compose">
              {t('mail.compose')}
            </Button>
          </Group>
          <TextInput size="xs" leftSection={<IconSearch size={14} />} placeholder={t('mail.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} />
        </Stack>
        <ScrollArea style={{ flex: 1 }}>
          {list.isLoading ? (
            <Loading />
          ) : list.error ? (
            <Box p="sm">
              <ErrorState error={list.error} />
            </Box>
          ) : threads.length === 0 ? (
            <Text c="dimmed" size="sm" p="md" ta="center">
              {t('mail.empty')}
            </Text>
          ) : (
            threads.map((th) => {
              const e = th.latest;
              const active = openId ? threads.find((x) => x.threadId === th.threadId)?.latest.id === openId || e.id === openId : false;
              return (
                <Box key={th.threadId} px="sm" py={10} className="list-row" data-active={active} onClick={() => open(e)} style={{ borderBottom: '1px solid var(--mantine-color-gray-2)' }} data-testid="email-row">
                  <Group justify="space-between" wrap="nowrap" gap="xs">
                    <Text size="sm" fw={th.unread ? 700 : 500} truncate>
                      {e.direction === 'out' ? `${t('mail.toShort')} ${e.to.map(who).join(', ')}` : who(e.from)}
                      {th.count > 1 && (
                        <Text span size="xs" c="dimmed">
                          {' '}
                          ({th.count})
                        </Text>
                      )}
                    </Text>
                    <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                      {formatWhen(e.date, lang)}
                    </Text>
                  </Group>
                  <Group gap={4} wrap="nowrap">
                    {th.unread && <Box w={7} h={7} bg="indigo.6" style={{ borderRadius: 7, flex: 'none' }} data-testid="unread-dot" />}
                    <Text size="sm" fw={th.unread ? 650 : 400} truncate>
                      {e.subject || t('mail.noSubject')}
                    </Text>
                    {th.hasAttachments && <IconPaperclip size={13} color="gray" style={{ flex: 'none' }} />}
                  </Group>
                  <Text size="xs" c="dimmed" lineClamp={1}>
                    {e.snippet}
                  </Text>
                  {multi && !mailboxId && (
                    <Text size="10px" c="dimmed" mt={2}>
                      {mailboxName(e.mailboxId)}
                    </Text>
                  )}
                </Box>
              );
            })
          )}
          <LoadMore list={list} size="xs" />
        </ScrollArea>
      </Paper>
      <Paper withBorder style={{ flex: 1, minWidth: 0, height: PANE_HEIGHT, display: 'flex', flexDirection: 'column' }}>
        {openId ? (
          <ThreadView emailId={openId} onCompose={(mode, source) => setCompose({ mode, source })} />
        ) : (
          <Center style={{ flex: 1 }}>
            <Stack align="center" gap={6}>
              <IconMailOpened size={40} color="var(--mantine-color-gray-5)" />
              <Text c="dimmed" size="sm">
                {t('mail.pick')}
              </Text>
            </Stack>
          </Center>
        )}
      </Paper>
      {compose && <ComposeModal mode={compose.mode} source={compose.source} defaultMailboxId={mailboxId} onClose={() => setCompose(null)} />}
    </Group>
  );
}

function ThreadView({ emailId, onCompose }: { emailId: string; onCompose: (mode: ComposeMode, source: EmailDetail) => void }) {
  const t = useT();
  const email = useQuery({ queryKey: ['email', emailId], queryFn: () => get<EmailDetail>(`/api/emails/${emailId}`) });
  const thread = useQuery({
    queryKey: ['emails', 'thread', email.data?.threadId],
    queryFn: () => get<Page<EmailSummary>>(qs('/api/emails', { threadId: email.data!.threadId, limit: 100 })),
    enabled: !!email.data?.threadId,
  });
  const [expanded, setExpanded] = useState<Set<string>>(new Set([emailId]));
  useEffect(() => setExpanded(new Set([emailId])), [emailId]);
  const queryClient = useQueryClient();
  const setSeen = async (seen: boolean, quiet: boolean) => {
    try {
      await patch(`/api/emails/${emailId}`, { seen });
      await Promise.all([queryClient.invalidateQueries({ queryKey: ['emails'] }), queryClient.invalidateQueries({ queryKey: ['email', emailId] })]);
    } catch (err) {
      // Opening a message marks it read in passing; only an explicit click reports a failure.
      if (!quiet) notifyError(err);
    }
  };
  // Opening an unread incoming message marks it read (on the server too), once per opening, so
  // "mark unread" right after is not undone.
  const markedFor = useRef<string | null>(null);
  useEffect(() => {
    const d = email.data;
    if (!d || d.id !== emailId || markedFor.current === emailId) return;
    markedFor.current = emailId;
    if (d.direction === 'in' && !d.flags.includes('\\Seen')) void setSeen(true, true);
  }, [email.data, emailId]);
  if (email.isLoading) return <Loading />;
  if (email.error) return <ErrorState error={email.error} />;
  const e = email.data!;
  const others = (thread.data?.items ?? []).filter((x) => x.id !== e.id).sort((a, b) => a.date.localeCompare(b.date));
  return (
    <>
      <Group justify="space-between" p="md" wrap="nowrap" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }}>
        <Title order={4} lineClamp={2} data-testid="email-subject">
          {e.subject || t('mail.noSubject')}
        </Title>
        <Group gap={4} wrap="nowrap">
          <Tooltip label={t('mail.reply')}>
            <ActionIcon variant="default" size="lg" onClick={() => onCompose('reply', e)} aria-label={t('mail.reply')} data-testid="reply">
              <IconArrowBackUp size={18} />
            </ActionIcon>
          </Tooltip>
          <Tooltip label={t('mail.replyAll')}>
            <ActionIcon variant="default" size="lg" onClick={() => onCompose('reply-all', e)} aria-label={t('mail.replyAll')}>
              <IconArrowBackUpDouble size={18} />
            </ActionIcon>
          </Tooltip>
          <Tooltip label={t('mail.forward')}>
            <ActionIcon variant="default" size="lg" onClick={() => onCompose('forward', e)} aria-label={t('mail.forward')}>
              <IconArrowForwardUp size={18} />
            </ActionIcon>
          </Tooltip>
          {e.direction === 'in' && (
            <Tooltip label={e.flags.includes('\\Seen') ? t('mail.markUnread') : t('mail.markRead')}>
              <ActionIcon
                variant="default"
                size="lg"
                onClick={() => void setSeen(!e.flags.includes('\\Seen'), false)}
                aria-label={e.flags.includes('\\Seen') ? t('mail.markUnread') : t('mail.markRead')}
                data-testid="toggle-seen"
              >
                {e.flags.includes('\\Seen') ? <IconMail size={18} /> : <IconMailOpened size={18} />}
              </ActionIcon>
            </Tooltip>
          )}
        </Group>
      </Group>
      <ScrollArea style={{ flex: 1 }} p="md">
        <Stack gap="sm">
          {others
            .filter((x) => x.date <= e.date)
            .map((x) => (
              <CollapsedOrFull key={x.id} id={x.id} summary={x} expanded={expanded.has(x.id)} onToggle={() => setExpanded(new Set([...expanded, x.id]))} onCompose={onCompose} />
            ))}
          <MessageCard email={e} onCompose={onCompose} />
          {others
            .filter((x) => x.date > e.date)
            .map((x) => (
              <CollapsedOrFull key={x.id} id={x.id} summary={x} expanded={expanded.has(x.id)} onToggle={() => setExpanded(new Set([...expanded, x.id]))} onCompose={onCompose} />
            ))}
        </Stack>
      </ScrollArea>
    </>
  );
}

function CollapsedOrFull({ id, summary, expanded, onToggle, onCompose }: { id: string; summary: EmailSummary; expanded: boolean; onToggle: () => void; onCompose: (m: ComposeMode, s: EmailDetail) => void }) {
  const lang = useLanguage();
  const q = useQuery({ queryKey: ['email', id], queryFn: () => get<EmailDetail>(`/api/emails/${id}`), enabled: expanded });
  if (!expanded)
    return (
      <Paper withBorder p="sm" className="list-row" onClick={onToggle} data-testid="thread-item">
        <Group justify="space-between" wrap="nowrap">
          <Text size="sm" fw={600}>
            {who(summary.from)}
          </Text>
          <Text size="xs" c="dimmed">
            {formatDateTime(summary.date, lang)}
          </Text>
        </Group>
        <Text size="xs" c="dimmed" lineClamp={1}>
          {summary.snippet}
        </Text>
      </Paper>
    );
  if (!q.data) return <Loader size="xs" />;
  return <MessageCard email={q.data} onCompose={onCompose} />;
}

function MessageCard({ email: e, onCompose }: { email: EmailDetail; onCompose: (m: ComposeMode, s: EmailDetail) => void }) {
  const t = useT();
  const lang = useLanguage();
  const files = e.attachments.filter((a) => !a.inline);
  return (
    <Paper withBorder p="md" data-testid="message">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="sm">
        <Group gap="sm" wrap="nowrap">
          <Avatar radius="xl" color={e.direction === 'out' ? 'teal' : 'indigo'}>
            {(who(e.from) || '?').slice(0, 1).toUpperCase()}
          </Avatar>
          <div style={{ minWidth: 0 }}>
            <Text size="sm" fw={650}>
              {addr(e.from)}
            </Text>
            <Text size="xs" c="dimmed" lineClamp={2}>
              {t('mail.toShort')} {e.to.map(addr).join(', ')}
              {e.cc.length > 0 && ` · ${t('mail.cc')}: ${e.cc.map(addr).join(', ')}`}
            </Text>
          </div>
        </Group>
        <Group gap={6} wrap="nowrap">
          {e.direction === 'out' && (
            <Badge size="xs" variant="light" color="teal">
              {t('mail.sentBadge')}
            </Badge>
          )}
          <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
            {formatDateTime(e.date, lang)}
          </Text>
          <ActionIcon variant="subtle" size="sm" color="gray" onClick={() => onCompose('reply', e)} aria-label={t('mail.reply')}>
            <IconArrowBackUp size={14} />
          </ActionIcon>
        </Group>
      </Group>
      <UnknownParticipants email={e} />
      {e.parseError && (
        <Text size="xs" c="orange">
          {e.parseError}
        </Text>
      )}
      <MailBody html={e.html} text={e.text} />
      {files.length > 0 && (
        <Group gap="xs" mt="md" data-testid="attachments">
          {files.map((a) => (
            <Anchor key={a.id} href={`/api/emails/${e.id}/attachments/${a.id}`} target="_blank" rel="noopener" underline="never">
              <Badge variant="light" color="gray" size="lg" leftSection={<IconDownload size={12} />} style={{ textTransform: 'none', cursor: 'pointer' }}>
                {a.filename} · {formatSize(a.size)}
              </Badge>
            </Anchor>
          ))}
        </Group>
      )}
    </Paper>
  );
}
