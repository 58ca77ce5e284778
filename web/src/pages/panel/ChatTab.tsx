// Chat tab of the communication panel (H3, H9, H10): my status Active/Inactive, chats offered to me
// with Accept (and the notification sound), my chats in progress with the history, reply with text
// and files, chat actions, complete. Everything updates live from the realtime socket.
import { useEffect, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { ActionIcon, Alert, Anchor, Avatar, Badge, Box, Button, Center, CloseButton, FileButton, Group, Menu, Paper, ScrollArea, SegmentedControl, Stack, Text, Textarea, Title, Tooltip } from '@mantine/core';
import { IconBolt, IconBrandTelegram, IconCheck, IconHistory, IconMessageCircle, IconPaperclip, IconSend, IconVolume } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, get, post, put, qs, type Page } from '../../api/client.js';
import { useRealtimeEvent } from '../../api/realtime.js';
import { useHasRoutes } from '../../api/capabilities.js';
import { ErrorState, Loading, useApiMutation } from '../../components/common.js';
import { formatDateTime, formatSize, formatWhen } from '../../components/format.js';
import type { TKey } from '../../i18n/translate.js';
import { useLanguage, useT } from '../../i18n/index.js';
import { channelLabel, earlierChats, statusReasonKey } from './chatText.js';
import { notifications as toasts } from '@mantine/notifications';
import type { Chat, ChatAction, ChatMessage } from './chatTypes.js';

const PANE_HEIGHT = 'calc(100vh - 60px - 2 * var(--mantine-spacing-lg) - 56px)';
const DEFAULT_SOUND = '/api/system-settings/OmniChatNotificationSound/file';

interface OperatorMe {
  status: 'active' | 'inactive';
  statusReason?: string | null;
  chatsInProgress?: number;
  limit?: number;
}

/** Plays the notification sound on every chat offered to me (H9). */
function useOfferSound() {
  const settings = useQuery({ queryKey: ['chat-settings'], queryFn: () => get<{ notificationSoundUrl?: string | null }>('/api/chat-settings'), retry: false });
  const audio = useRef<HTMLAudioElement | null>(null);
  const url = settings.data?.notificationSoundUrl || DEFAULT_SOUND;
  useEffect(() => {
    const a = document.createElement('audio');
    a.src = url;
    a.preload = 'auto';
    a.setAttribute('data-testid', 'chat-sound');
    a.style.display = 'none';
    document.body.appendChild(a);
    audio.current = a;
    return () => {
      a.remove();
    };
  }, [url]);
  return () => {
    const a = audio.current;
    if (!a) return;
    a.currentTime = 0;
    a.dataset.played = String(Number(a.dataset.played ?? '0') + 1);
    a.play().catch(() => {
      /* the browser may refuse until the user interacted with the page */
    });
  };
}

export function ChatTab() {
  const t = useT();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const selected = params.get('id');
  const play = useOfferSound();

  const me = useQuery({ queryKey: ['operator-me'], queryFn: () => get<OperatorMe>('/api/operators/me'), retry: false });
  const offered = useQuery({ queryKey: ['chats', 'offered'], queryFn: () => get<Page<Chat>>(qs('/api/chats', { state: 'offered', mine: true, limit: 100 })), refetchInterval: 30_000 });
  const inProgress = useQuery({ queryKey: ['chats', 'in-progress'], queryFn: () => get<Page<Chat>>(qs('/api/chats', { state: 'in-progress', mine: true, limit: 100 })), refetchInterval: 30_000 });

  useRealtimeEvent((e) => {
    if (e.type === 'chat.offered') {
      play();
      toasts.show({ color: 'indigo', title: t('chat.newOffer'), message: e.data?.customerName ?? '', icon: <IconVolume size={16} /> });
    }
    if (e.type === 'operator.status' || e.type === 'chat.withdrawn') void qc.invalidateQueries({ queryKey: ['operator-me'] });
  });

  const setStatus = useApiMutation((status: 'active' | 'inactive') => put<OperatorMe>('/api/operators/me/status', { status }), {
    onSuccess: (r, status) => {
      qc.setQueryData(['operator-me'], { ...(me.data ?? {}), ...(r ?? {}), status });
      void qc.invalidateQueries({ queryKey: ['chats'] });
    },
  });
  const status = me.data?.status ?? 'inactive';
  const select = (id: string) => {
    const next = new URLSearchParams(params);
    next.set('id', id);
    setParams(next, { replace: true });
  };

  return (
    <Group align="stretch" gap="md" wrap="nowrap">
      <Paper withBorder w={360} miw={300} style={{ display: 'flex', flexDirection: 'column', height: PANE_HEIGHT }}>
        <Stack gap={6} p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }}>
          <Group justify="space-between">
            <Text size="sm" fw={600}>
              {t('chat.myStatus')}
            </Text>
            {me.data?.limit != null && (
              <Text size="xs" c="dimmed">
                {t('chat.load', { n: me.data.chatsInProgress ?? 0, max: me.data.limit })}
              </Text>
            )}
          </Group>
          <SegmentedControl
            fullWidth
            value={status}
            onChange={(v) => setStatus.mutate(v as 'active' | 'inactive')}
            color={status === 'active' ? 'teal' : 'gray'}
            data={[
              { value: 'active', label: t('common.active') },
              { value: 'inactive', label: t('common.inactive') },
            ]}
            data-testid="operator-status"
          />
          {status === 'inactive' && statusReasonKey(me.data?.statusReason) && (
            <Text size="xs" c="orange.8" data-testid="status-reason">
              {t(statusReasonKey(me.data?.statusReason)!)}
            </Text>
          )}
        </Stack>
        <ScrollArea style={{ flex: 1 }}>
          <Section title={t('chat.offered')} count={offered.data?.items.length ?? 0} color="orange">
            {offered.error ? <ErrorState error={offered.error} /> : null}
            {(offered.data?.items ?? []).map((c) => (
              <OfferRow key={c.id} chat={c} onAccepted={() => select(c.id)} />
            ))}
            {offered.data?.items.length === 0 && (
              <Text size="xs" c="dimmed" px="sm" pb="xs">
                {status === 'active' ? t('chat.noOffers') : t('chat.inactiveHint')}
              </Text>
            )}
          </Section>
          <Section title={t('chat.inProgress')} count={inProgress.data?.items.length ?? 0} color="indigo">
            {(inProgress.data?.items ?? []).map((c) => (
              <ChatRow key={c.id} chat={c} active={selected === c.id} onClick={() => select(c.id)} />
            ))}
            {inProgress.data?.items.length === 0 && (
              <Text size="xs" c="dimmed" px="sm" pb="xs">
                {t('chat.noChats')}
              </Text>
            )}
          </Section>
        </ScrollArea>
      </Paper>
      <Paper withBorder style={{ flex: 1, minWidth: 0, height: PANE_HEIGHT, display: 'flex', flexDirection: 'column' }}>
        {selected ? (
          <ChatView chatId={selected} />
        ) : (
          <Center style={{ flex: 1 }}>
            <Stack align="center" gap={6}>
              <IconMessageCircle size={40} color="var(--mantine-color-gray-5)" />
              <Text c="dimmed" size="sm">
                {t('chat.pick')}
              </Text>
            </Stack>
          </Center>
        )}
      </Paper>
    </Group>
  );
}

function Section({ title, count, color, children }: { title: string; count: number; color: string; children: React.ReactNode }) {
  return (
    <Box pt="sm">
      <Group gap={6} px="sm" mb={6}>
        <Text size="xs" fw={700} tt="uppercase" c="dimmed">
          {title}
        </Text>
        <Badge size="xs" color={color} variant={count ? 'filled' : 'light'}>
          {count}
        </Badge>
      </Group>
      {children}
    </Box>
  );
}

function lastText(c: Chat): string {
  return c.lastMessage?.text ?? c.lastMessageText ?? '';
}

function OfferRow({ chat: c, onAccepted }: { chat: Chat; onAccepted: () => void }) {
  const t = useT();
  const lang = useLanguage();
  const accept = useApiMutation(() => post(`/api/chats/${c.id}/accept`), { invalidate: [['chats'], ['operator-me']], onSuccess: onAccepted });
  return (
    <Box px="sm" py={8} mx="xs" mb={6} style={{ border: '1px solid var(--mantine-color-orange-3)', borderRadius: 8, background: 'var(--mantine-color-orange-0)' }} data-testid="offered-chat">
      <Group justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
          <Avatar size={30} radius="xl" color="orange">
            {c.customerName.slice(0, 1).toUpperCase()}
          </Avatar>
          <div style={{ minWidth: 0 }}>
            <Text size="sm" fw={600} truncate>
              {c.customerName}
            </Text>
            <Text size="xs" c="dimmed" truncate>
              {lastText(c) || c.channelName || ''}
            </Text>
          </div>
        </Group>
        <Button size="xs" color="teal" leftSection={<IconCheck size={14} />} loading={accept.isPending} onClick={() => accept.mutate(undefined)} data-testid="accept-chat">
          {t('chat.accept')}
        </Button>
      </Group>
      <Text size="10px" c="dimmed" mt={4}>
        {formatWhen(c.offeredAt ?? c.createdAt, lang)}
        {c.queueName ? ` · ${c.queueName}` : ''}
      </Text>
    </Box>
  );
}

function ChatRow({ chat: c, active, onClick }: { chat: Chat; active: boolean; onClick: () => void }) {
  const lang = useLanguage();
  return (
    <Box px="sm" py={8} className="list-row" data-active={active} onClick={onClick} data-testid="chat-row">
      <Group gap="xs" wrap="nowrap">
        <Avatar size={34} radius="xl" color="indigo">
          {c.customerName.slice(0, 1).toUpperCase()}
        </Avatar>
        <div style={{ minWidth: 0, flex: 1 }}>
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm" fw={600} truncate>
              {c.customerName}
            </Text>
            <Text size="10px" c="dimmed">
              {formatWhen(c.lastMessageAt, lang)}
            </Text>
          </Group>
          <Text size="xs" c="dimmed" truncate>
            {lastText(c)}
          </Text>
        </div>
      </Group>
    </Box>
  );
}

function ChatView({ chatId }: { chatId: string }) {
  const t = useT();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const chat = useQuery({ queryKey: ['chat', chatId], queryFn: () => get<Chat>(`/api/chats/${chatId}`) });
  // Chat actions (H7) come with their own API; until the server has it, no menu and no requests.
  const actionsApi = useHasRoutes(['GET', '/api/chat-actions'], ['POST', '/api/chats/{id}/actions/{actionId}']);
  const actions = useQuery({ queryKey: ['chat-actions'], queryFn: () => get<Page<ChatAction>>('/api/chat-actions'), enabled: actionsApi, retry: false });
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const viewport = useRef<HTMLDivElement>(null);

  useRealtimeEvent((e) => {
    if (e.data?.chatId === chatId || e.data?.id === chatId) {
      void qc.invalidateQueries({ queryKey: ['chat', chatId] });
    }
  });

  const history: ChatMessage[] = [...(chat.data?.messages ?? [])].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  useEffect(() => {
    viewport.current?.scrollTo({ top: viewport.current.scrollHeight });
  }, [history.length]);

  const send = useApiMutation(
    () => {
      if (files.length === 0) return post(`/api/chats/${chatId}/messages`, { text });
      const fd = new FormData();
      if (text) fd.append('text', text);
      for (const f of files) fd.append('files', f, f.name);
      return api('POST', `/api/chats/${chatId}/messages`, fd);
    },
    {
      invalidate: [['chat', chatId], ['chats']],
      onSuccess: () => {
        setText('');
        setFiles([]);
      },
    },
  );
  const complete = useApiMutation(() => post(`/api/chats/${chatId}/complete`), { invalidate: [['chats'], ['chat', chatId], ['operator-me']], success: t('chat.completed') });
  const runAction = useApiMutation((a: ChatAction) => post(`/api/chats/${chatId}/actions/${a.id}`), { success: t('chat.actionDone') });

  if (chat.isLoading) return <Loading />;
  if (chat.error) return <ErrorState error={chat.error} />;
  const c = chat.data!;
  const done = c.state === 'completed';
  return (
    <>
      <Group justify="space-between" p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }} wrap="nowrap">
        <Group gap="sm" wrap="nowrap">
          <Avatar radius="xl" color="indigo">
            {c.customerName.slice(0, 1).toUpperCase()}
          </Avatar>
          <div>
            <Title order={5} data-testid="chat-title">
              {c.customerName}
            </Title>
            <Group gap={6}>
              <IconBrandTelegram size={14} color="var(--mantine-color-blue-6)" />
              <Text size="xs" c="dimmed">
                {[c.customerUsername ? `@${c.customerUsername}` : null, c.channel?.name ?? c.channelName, c.queueName].filter(Boolean).join(' · ')}
              </Text>
              {c.contactId && (
                <Anchor size="xs" onClick={() => navigate(`/crm/contacts/${c.contactId}`)} data-testid="chat-contact">
                  {c.contact?.name ? `${t('chat.contact')}: ${c.contact.name}` : t('chat.openContact')}
                </Anchor>
              )}
            </Group>
          </div>
        </Group>
        <Group gap="xs">
          {actionsApi && (actions.data?.items.length ?? 0) > 0 && !done && (
            <Menu position="bottom-end">
              <Menu.Target>
                <Button variant="default" size="xs" leftSection={<IconBolt size={14} />}>
                  {t('chat.actions')}
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                {actions.data!.items.map((a) => (
                  <Menu.Item key={a.id} onClick={() => runAction.mutate(a)}>
                    {a.name}
                  </Menu.Item>
                ))}
              </Menu.Dropdown>
            </Menu>
          )}
          {done ? (
            <Badge color="gray">{t('chat.stateCompleted')}</Badge>
          ) : (
            <Button size="xs" color="teal" variant="light" leftSection={<IconCheck size={14} />} loading={complete.isPending} onClick={() => complete.mutate(undefined)} data-testid="complete-chat">
              {t('chat.complete')}
            </Button>
          )}
        </Group>
      </Group>
      <ScrollArea style={{ flex: 1 }} viewportRef={viewport} p="md" bg="gray.0">
        <Stack gap={8} data-testid="chat-history">
          {c.contactId && <EarlierChats contactId={c.contactId} currentChatId={c.id} />}
          {history.map((m) => (
            <MessageBubble key={m.id} m={m} chatId={chatId} />
          ))}
        </Stack>
      </ScrollArea>
      {done ? (
        <Alert color="gray" m="sm">
          {t('chat.completedHint')}
        </Alert>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim() || files.length) send.mutate(undefined);
          }}
        >
          <Stack gap={6} p="sm" style={{ borderTop: '1px solid var(--mantine-color-gray-3)' }}>
            {files.length > 0 && (
              <Group gap={6}>
                {files.map((f, i) => (
                  <Badge key={i} variant="light" rightSection={<CloseButton size="xs" onClick={() => setFiles(files.filter((_, j) => j !== i))} />}>
                    {f.name}
                  </Badge>
                ))}
              </Group>
            )}
            <Group align="flex-end" gap="xs" wrap="nowrap">
              <FileButton onChange={(fs) => setFiles([...files, ...fs])} multiple>
                {(props) => (
                  <ActionIcon variant="default" size={36} aria-label={t('mail.attach')} {...props}>
                    <IconPaperclip size={18} />
                  </ActionIcon>
                )}
              </FileButton>
              <Textarea
                style={{ flex: 1 }}
                autosize
                minRows={1}
                maxRows={6}
                placeholder={t('chat.replyPlaceholder')}
                value={text}
                onChange={(e) => setText(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && !e.shiftKey) {
                    e.preventDefault();
                    if (text.trim() || files.length) send.mutate(undefined);
                  }
                }}
                data-testid="chat-reply"
              />
              <Button type="submit" leftSection={<IconSend size={16} />} loading={send.isPending} disabled={!text.trim() && files.length === 0} data-testid="chat-send">
                {t('mail.send')}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </>
  );
}


function MessageBubble({ m, chatId, testId = 'chat-message' }: { m: ChatMessage; chatId: string; testId?: string }) {
  const t = useT();
  const lang = useLanguage();
  return (
    <Box style={{ display: 'flex', flexDirection: 'column', alignItems: m.direction === 'out' ? 'flex-end' : 'flex-start' }} data-testid={testId} data-direction={m.direction}>
      <div className={`chat-bubble ${m.direction}`}>
        {m.text}
        {m.files.map((f) =>
          f.kind === 'photo' ? (
            <img key={f.id} src={f.url ?? `/api/chats/${chatId}/files/${f.id}`} alt={f.name} style={{ display: 'block', maxWidth: 260, borderRadius: 8, marginTop: 6 }} />
          ) : (
            <Anchor key={f.id} href={f.url ?? `/api/chats/${chatId}/files/${f.id}`} target="_blank" c={m.direction === 'out' ? 'white' : undefined} size="sm" mt={4} style={{ display: 'flex', alignItems: 'center', gap: 4 }}>
              <IconPaperclip size={14} /> {f.name} · {formatSize(f.size)}
            </Anchor>
          ),
        )}
      </div>
      <Text size="10px" c="dimmed" mt={2}>
        {m.direction === 'out' && m.authorName ? `${m.authorName} · ` : ''}
        {formatWhen(m.createdAt, lang)}
        {m.delivery === 'failed' && (
          <Tooltip label={m.sendError ?? ''}>
            <Text span c="red" size="10px">
              {' · '}
              {t('chat.notDelivered')}
            </Text>
          </Tooltip>
        )}
      </Text>
    </Box>
  );
}

/**
 * The contact's earlier chats (H10: the history with the contact), collapsed above the current
 * conversation. The server lets the operator working with a customer read all of that customer's
 * chats, whoever handled them.
 */
function EarlierChats({ contactId, currentChatId }: { contactId: string; currentChatId: string }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const q = useQuery({
    // Per current chat: the list (and the states in it) as of opening this conversation.
    queryKey: ['chats', 'of-contact', contactId, 'before', currentChatId],
    queryFn: () => get<Page<Chat>>(qs('/api/chats', { contactId, limit: 50 })),
    retry: false,
  });
  const earlier = earlierChats(q.data?.items ?? [], currentChatId);
  if (earlier.length === 0) return null;
  return (
    <Box data-testid="earlier-chats">
      <Center>
        <Button size="compact-xs" variant="subtle" color="gray" leftSection={<IconHistory size={14} />} onClick={() => setOpen(!open)} data-testid="earlier-chats-toggle">
          {open ? t('chat.earlierHide') : t('chat.earlier', { n: earlier.length })}
        </Button>
      </Center>
      {open && (
        <Stack gap={6} mt={6} mb="sm">
          {earlier.map((c) => (
            <EarlierChat key={c.id} chat={c} />
          ))}
        </Stack>
      )}
    </Box>
  );
}

function EarlierChat({ chat }: { chat: Chat }) {
  const t = useT();
  const lang = useLanguage();
  const [open, setOpen] = useState(false);
  const q = useQuery({ queryKey: ['chat', chat.id], queryFn: () => get<Chat>(`/api/chats/${chat.id}`), enabled: open });
  const messages = [...(q.data?.messages ?? [])].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return (
    <Paper withBorder p="xs" bg="white" data-testid="earlier-chat">
      <Group justify="space-between" wrap="nowrap" className="list-row" onClick={() => setOpen(!open)}>
        <Text size="xs" fw={600}>
          {t('timeline.chat', { channel: channelLabel(chat), state: t(`chat.state.${chat.state}` as TKey) })}
        </Text>
        <Text size="xs" c="dimmed">
          {formatDateTime(chat.createdAt, lang)}
        </Text>
      </Group>
      {open && (q.isLoading ? <Loading /> : q.error ? <ErrorState error={q.error} /> : (
        <Stack gap={8} mt="xs">
          {messages.map((m) => (
            <MessageBubble key={m.id} m={m} chatId={chat.id} testId="earlier-message" />
          ))}
        </Stack>
      ))}
    </Paper>
  );
}
