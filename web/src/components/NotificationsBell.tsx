// The bell: the user's notifications (GET /api/notifications), refreshed live by `notification`
// events. A notification may carry links (e.g. "open mail" / "mailbox settings" after adding a
// mailbox) which navigate inside the console.
import { ActionIcon, Anchor, Badge, Box, Group, Indicator, Popover, ScrollArea, Stack, Text } from '@mantine/core';
import { IconBell } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { notifications as toasts } from '@mantine/notifications';
import { get, post, type Page } from '../api/client.js';
import { useRealtimeEvent } from '../api/realtime.js';
import { useT } from '../i18n/index.js';
import { formatWhen } from './format.js';
import { useLanguage } from '../i18n/index.js';

export interface NotificationItem {
  id: string;
  type?: string;
  title?: string;
  body?: string | null;
  message?: string;
  links?: { label: string; href: string }[];
  link?: string | null;
  data?: any;
  readAt?: string | null;
  read?: boolean;
  createdAt?: string;
}

export function notificationLinks(n: NotificationItem): { label: string; href: string }[] {
  if (Array.isArray(n.links)) return n.links;
  if (Array.isArray(n.data?.links)) return n.data.links;
  const out: { label: string; href: string }[] = [];
  if (n.link) out.push({ label: 'Open', href: n.link });
  return out;
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
    const n = e.data as NotificationItem;
    toasts.show({ title: n.title ?? t('notifications.title'), message: n.body ?? n.message ?? '', color: 'indigo' });
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
            {items.map((n) => (
              <Box key={n.id} px="md" py="sm" style={{ borderTop: '1px solid var(--mantine-color-gray-2)' }} bg={n.readAt || n.read ? undefined : 'indigo.0'} onMouseEnter={() => markRead(n)} data-testid="notification">
                <Text size="sm" fw={600}>
                  {n.title ?? n.type}
                </Text>
                {(n.body ?? n.message) && (
                  <Text size="sm" c="dimmed">
                    {n.body ?? n.message}
                  </Text>
                )}
                <Group gap="md" mt={4}>
                  {notificationLinks(n).map((l) => (
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
            ))}
          </Stack>
        </ScrollArea.Autosize>
      </Popover.Dropdown>
    </Popover>
  );
}
