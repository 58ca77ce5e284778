// The frame around every page: header (product, live-connection dot, notifications, language,
// user menu with name and roles) and navigation showing only what the user's operations allow.
import type { ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { AppShell, Avatar, Badge, Group, Menu, NavLink, ScrollArea, Select, Stack, Text, Tooltip, UnstyledButton, Box } from '@mantine/core';
import {
  IconAddressBook,
  IconBuilding,
  IconCalendarEvent,
  IconChevronDown,
  IconFolders,
  IconInbox,
  IconLogout,
  IconMail,
  IconMessages,
  IconServer,
  IconSettings,
  IconShieldLock,
  IconUser,
  IconUsers,
  IconUsersGroup,
  IconWorld,
  IconAdjustments,
  IconListDetails,
  IconPlugConnected,
  IconLifebuoy,
} from '@tabler/icons-react';
import { useSession } from '../api/session.js';
import { useRealtime } from '../api/realtime.js';
import { LANGUAGES, useLanguage, useT, type Language, type TKey } from '../i18n/index.js';
import { NotificationsBell } from './NotificationsBell.js';
import { notifyError } from './common.js';

interface Item {
  to: string;
  label: TKey;
  icon: typeof IconMail;
}

function Section({ title, items, all }: { title: string; items: Item[]; all: Item[] }) {
  const location = useLocation();
  // The most specific link wins: /profile/mailboxes/x lights "My mailboxes", not "Profile".
  const best = all
    .filter((i) => location.pathname === i.to || location.pathname.startsWith(i.to + '/'))
    .sort((a, b) => b.to.length - a.to.length)[0]?.to;
  return (
    <Stack gap={2} mb="md">
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4}>
        {title}
      </Text>
      {items.map((i) => (
        <NavLinkItem key={i.to} item={i} active={best === i.to} />
      ))}
    </Stack>
  );
}

function NavLinkItem({ item, active }: { item: Item; active: boolean }) {
  const t = useT();
  const Icon = item.icon;
  return <NavLink component={Link} to={item.to} label={t(item.label)} leftSection={<Icon size={18} stroke={1.6} />} active={active} variant="light" style={{ borderRadius: 8 }} />;
}

export function Shell({ children }: { children: ReactNode }) {
  const t = useT();
  const { me, can, logout, setLanguage } = useSession();
  const language = useLanguage();
  const { connected } = useRealtime();
  const navigate = useNavigate();
  if (!me) return null;

  const work: Item[] = [
    { to: '/panel/email', label: 'nav.email', icon: IconInbox },
    { to: '/panel/chat', label: 'nav.chat', icon: IconMessages },
  ];
  const crm: Item[] = [
    { to: '/crm/contacts', label: 'nav.contacts', icon: IconAddressBook },
    { to: '/crm/accounts', label: 'nav.accounts', icon: IconBuilding },
    { to: '/crm/activities', label: 'nav.activities', icon: IconCalendarEvent },
    { to: '/crm/cases', label: 'nav.cases', icon: IconLifebuoy },
    { to: '/crm/groups', label: 'nav.groups', icon: IconFolders },
  ];
  const profile: Item[] = [
    { to: '/profile/mailboxes', label: 'nav.myMailboxes', icon: IconMail },
    { to: '/profile', label: 'nav.profile', icon: IconUser },
  ];
  const admin: Item[] = [
    { to: '/admin/users', label: 'nav.users', icon: IconUsers },
    { to: '/admin/roles', label: 'nav.roles', icon: IconUsersGroup },
    { to: '/admin/operations', label: 'nav.operations', icon: IconShieldLock },
    { to: '/admin/settings', label: 'nav.settings', icon: IconAdjustments },
    { to: '/admin/mail-providers', label: 'nav.providers', icon: IconServer },
    { to: '/admin/domains', label: 'nav.domains', icon: IconWorld },
  ];
  const chat: Item[] = [
    { to: '/chat-settings/queues', label: 'nav.queues', icon: IconListDetails },
    { to: '/chat-settings/channels', label: 'nav.channels', icon: IconPlugConnected },
  ];
  const all = [...work, ...crm, ...profile, ...chat, ...admin];
  const initials = me.name
    .split(/\s+/)
    .map((p) => p[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 248, breakpoint: 'sm' }} padding="lg">
      <AppShell.Header px="lg">
        <Group h="100%" justify="space-between">
          <Group gap="xs">
            <Box w={30} h={30} bg="indigo.6" style={{ borderRadius: 8, display: 'grid', placeItems: 'center' }}>
              <IconMessages size={18} color="white" />
            </Box>
            <Text fw={750} size="lg">
              Switchboard
            </Text>
            <Tooltip label={connected ? t('shell.live') : t('shell.offline')}>
              <Box w={8} h={8} ml={4} bg={connected ? 'teal.5' : 'gray.4'} style={{ borderRadius: 8 }} data-testid="realtime-dot" data-connected={connected} />
            </Tooltip>
          </Group>
          <Group gap="sm">
            <NotificationsBell />
            <Select
              aria-label={t('shell.language')}
              size="xs"
              w={120}
              data={LANGUAGES}
              value={language}
              allowDeselect={false}
              leftSection={<IconWorld size={14} />}
              onChange={(v) => {
                if (!v) return;
                localStorage.setItem('sb.language', v);
                setLanguage(v as Language).catch(notifyError);
              }}
            />
            <Menu position="bottom-end" width={240} shadow="md">
              <Menu.Target>
                <UnstyledButton data-testid="user-menu">
                  <Group gap={8}>
                    <Avatar color="indigo" radius="xl" size={34}>
                      {initials}
                    </Avatar>
                    <Stack gap={0}>
                      <Text size="sm" fw={600} lh={1.2}>
                        {me.name}
                      </Text>
                      <Text size="xs" c="dimmed" lh={1.2}>
                        {me.roles.length ? me.roles.map((r) => r.name).join(', ') : me.email}
                      </Text>
                    </Stack>
                    <IconChevronDown size={14} />
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{me.email}</Menu.Label>
                {me.roles.length > 0 && (
                  <Group gap={4} px="sm" pb="xs">
                    {me.roles.map((r) => (
                      <Badge key={r.id} size="xs" variant="light">
                        {r.name}
                      </Badge>
                    ))}
                  </Group>
                )}
                <Menu.Item leftSection={<IconUser size={16} />} onClick={() => navigate('/profile')}>
                  {t('nav.profile')}
                </Menu.Item>
                <Menu.Item leftSection={<IconSettings size={16} />} onClick={() => navigate('/profile/mailboxes')}>
                  {t('nav.myMailboxes')}
                </Menu.Item>
                <Menu.Divider />
                <Menu.Item color="red" leftSection={<IconLogout size={16} />} onClick={() => logout().then(() => navigate('/'))}>
                  {t('shell.signOut')}
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm">
        <ScrollArea>
          <Section title={t('nav.work')} items={work} all={all} />
          <Section title={t('nav.crm')} items={crm} all={all} />
          <Section title={t('nav.me')} items={profile} all={all} />
          {can('CanManageChats') && <Section title={t('nav.chatSettings')} items={chat} all={all} />}
          {can('CanManageAdministration') && <Section title={t('nav.administration')} items={admin} all={all} />}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
