// The communication panel: Email and Chat tabs (W1).
import { useNavigate, useParams } from 'react-router';
import { Tabs } from '@mantine/core';
import { IconInbox, IconMessages } from '@tabler/icons-react';
import { useT } from '../../i18n/index.js';
import { EmailTab } from './EmailTab.js';
import { ChatTab } from './ChatTab.js';

export function PanelPage() {
  const t = useT();
  const { tab } = useParams();
  const navigate = useNavigate();
  const current = tab === 'chat' ? 'chat' : 'email';
  return (
    <Tabs value={current} onChange={(v) => navigate(`/panel/${v}`)} keepMounted={false}>
      <Tabs.List mb="md">
        <Tabs.Tab value="email" leftSection={<IconInbox size={16} />}>
          {t('nav.email')}
        </Tabs.Tab>
        <Tabs.Tab value="chat" leftSection={<IconMessages size={16} />}>
          {t('nav.chat')}
        </Tabs.Tab>
      </Tabs.List>
      <Tabs.Panel value="email">
        <EmailTab />
      </Tabs.Panel>
      <Tabs.Panel value="chat">
        <ChatTab />
      </Tabs.Panel>
    </Tabs>
  );
}
