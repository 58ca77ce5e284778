// The bell: the user's notifications (GET /api/notifications), refreshed live by `notification`
// events. A notification may carry links (e.g. "open mail" / "mailbox settings" after adding a
// mailbox) which navigate inside the console. Texts come from the notification's kind in the
// user's language where the console knows it (serverText.ts), else as the server wrote them.
import { ActionIcon, Anchor, Badge, Box, Group, Indicator, Popover, ScrollArea, Stack, Text } from '@mantine/core';
import { IconBell } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { notifications as toasts } from '@mantine/notifications';
import { get, post, type Page } from '../api/client.js';
import { useRealtimeEvent } from '../api/realtime.js';
import { useLanguage, useT } from '../i18n/index.js';
import { notificationText, type NotificationLike } from '../i18n/serverText.js';
import { formatWhen } from './format.js';

export interface NotificationItem extends NotificationLike {
  id: string;
  readAt?: string | null;
  read?: boolean;
  createdAt?: string;
}

export function NotificationsBell() {
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['notifications'], queryFn: () => get<Page<NotificationItem>>('/api/notifications') });
  const items = q.data?.items ?? [];
  const unread = items.filter((n) => !(n.readAt || n.read)).length;

  useRealtimeEvent((e) => {
    if (e.type !== 'notification') return;
    const n = notificationText(t, e.data as NotificationItem);
    toasts.show({ title: n.title, message: n.body ?? '', color: 'indigo' });
  });

  const markRead = (n: NotificationItem) => {
    if (n.readAt || n.read) return;
    post(`/api/notifications/${n.id}/read`)
      .catch(() => {})
      .finally(() => qc.invalidateQueries({ queryKey: ['notifications'] }));
  };

  return (
    <Popover width={360} position="bottom-end" shadow="md">
      <Popover.Target>
        <Indicator disabled={unread === 0} label={unread} size={16} offset={4} color="red">
          <ActionIcon variant="subtle" color="gray" size="lg" aria-label={t('notifications.title')} data-testid="notifications-bell">
            <IconBell size={20} />
          </ActionIcon>
        </Indicator>
      </Popover.Target>
      <Popover.Dropdown p={0}>
        <Group justify="space-between" px="md" py="sm">
          <Text fw={600}>{t('notifications.title')}</Text>
          {unread > 0 && <Badge size="sm">{t('notifications.unread', { n: unread })}</Badge>}
        </Group>
        <ScrollArea.Autosize mah={420}>
          {items.length === 0 && (
            <Text c="dimmed" size="sm" px="md" pb="md">
              {t('notifications.empty')}
            </Text>
          )}
          <Stack gap={0}>
            {items.map((n) => {
              const text = notificationText(t, n);
              return (
              <Box key={n.id} px="md" py="sm" style={{ borderTop: '1px solid var(--mantine-color-gray-2)' }} bg={n.readAt || n.read ? undefined : 'indigo.0'} onMouseEnter={() => markRead(n)} data-testid="notification">
                <Text size="sm" fw={600}>
                  {text.title}
                </Text>
                {text.body && (
                  <Text size="sm" c="dimmed">
                    {text.body}
                  </Text>
                )}
                <Group gap="md" mt={4}>
                  {text.links.map((l) => (
                    <Anchor
                      key={l.href}
                      size="sm"
                      onClick={() => {
                        markRead(n);
                        if (l.href.startsWith('/')) navigate(l.href);
                        else window.open(l.href, '_blank');
                      }}
                    >
                      {l.label}
                    </Anchor>
                  ))}
                  {n.createdAt && (
                    <Text size="xs" c="dimmed" ml="auto">
                      {formatWhen(n.createdAt, lang)}
                    </Text>
                  )}
                </Group>
              </Box>
              );
            })}
          </Stack>
        </ScrollArea.Autosize>
      </Popover.Dropdown>
    </Popover>
  );
}
