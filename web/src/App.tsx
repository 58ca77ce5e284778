import { Navigate, Route, Routes } from 'react-router';
import { Center, Loader } from '@mantine/core';
import { useSession } from './api/session.js';
import { RealtimeProvider } from './api/realtime.js';
import { LanguageProvider, normalizeLanguage } from './i18n/index.js';
import { Shell } from './components/Shell.js';
import { LoginPage } from './pages/Login.js';
import { UsersPage } from './pages/admin/Users.js';
import { RolesPage } from './pages/admin/Roles.js';
import { OperationsPage } from './pages/admin/Operations.js';
import { SettingsPage } from './pages/admin/Settings.js';
import { ProvidersPage } from './pages/admin/Providers.js';
import { ProviderEditPage } from './pages/admin/ProviderEdit.js';
import { DomainsPage } from './pages/admin/Domains.js';
import { ProfilePage } from './pages/profile/Profile.js';
import { MailboxesPage } from './pages/profile/Mailboxes.js';
import { AddMailboxPage } from './pages/profile/AddMailbox.js';
import { MailboxSettingsPage } from './pages/profile/MailboxSettings.js';
import { PanelPage } from './pages/panel/Panel.js';
import { QueuesPage } from './pages/chat-settings/Queues.js';
import { ChannelsPage } from './pages/chat-settings/Channels.js';
import { RecordsPage } from './pages/crm/Records.js';
import { RecordPage } from './pages/crm/Record.js';
import { ActivitiesPage } from './pages/crm/Activities.js';
import { CasesPage } from './pages/crm/Cases.js';
import { GroupsPage } from './pages/crm/Groups.js';
import { GroupPage } from './pages/crm/Group.js';
import type { ReactNode } from 'react';
import type { Operation } from './api/session.js';

function Guard({ op, children }: { op: Operation; children: ReactNode }) {
  const { can } = useSession();
  return can(op) ? <>{children}</> : <Navigate to="/" replace />;
}

export function App() {
  const { me, loading } = useSession();
  const language = normalizeLanguage(me?.language ?? localStorage.getItem('sb.language') ?? navigator.language.slice(0, 2));
  if (loading) {
    return (
      <Center h="100vh">
        <Loader />
      </Center>
    );
  }
  if (!me) {
    return (
      <LanguageProvider language={language}>
        <Routes>
          <Route path="*" element={<LoginPage />} />
        </Routes>
      </LanguageProvider>
    );
  }
  const admin = (el: ReactNode) => <Guard op="CanManageAdministration">{el}</Guard>;
  const chats = (el: ReactNode) => <Guard op="CanManageChats">{el}</Guard>;
  return (
    <LanguageProvider language={language}>
      <RealtimeProvider enabled>
        <Shell>
          <Routes>
            <Route path="/" element={<Navigate to="/panel/email" replace />} />
            <Route path="/login" element={<Navigate to="/panel/email" replace />} />
            <Route path="/panel" element={<Navigate to="/panel/email" replace />} />
            <Route path="/panel/:tab" element={<PanelPage />} />
            <Route path="/crm/contacts" element={<RecordsPage kind="contacts" />} />
            <Route path="/crm/contacts/:id" element={<RecordPage kind="contacts" />} />
            <Route path="/crm/accounts" element={<RecordsPage kind="accounts" />} />
            <Route path="/crm/accounts/:id" element={<RecordPage kind="accounts" />} />
            <Route path="/crm/activities" element={<ActivitiesPage />} />
            <Route path="/crm/cases" element={<CasesPage />} />
            <Route path="/crm/cases/:id" element={<RecordPage kind="cases" />} />
            <Route path="/crm/groups" element={<GroupsPage />} />
            <Route path="/crm/groups/:id" element={<GroupPage />} />
            <Route path="/profile" element={<ProfilePage />} />
            <Route path="/profile/mailboxes" element={<MailboxesPage />} />
            <Route path="/profile/mailboxes/new" element={<AddMailboxPage />} />
            <Route path="/profile/mailboxes/:id" element={<MailboxSettingsPage />} />
            <Route path="/admin" element={<Navigate to="/admin/users" replace />} />
            <Route path="/admin/users" element={admin(<UsersPage />)} />
            <Route path="/admin/roles" element={admin(<RolesPage />)} />
            <Route path="/admin/operations" element={admin(<OperationsPage />)} />
            <Route path="/admin/settings" element={admin(<SettingsPage />)} />
            <Route path="/admin/mail-providers" element={admin(<ProvidersPage />)} />
            <Route path="/admin/mail-providers/new" element={admin(<ProviderEditPage />)} />
            <Route path="/admin/mail-providers/:id" element={admin(<ProviderEditPage />)} />
            <Route path="/admin/domains" element={admin(<DomainsPage />)} />
            <Route path="/chat-settings" element={<Navigate to="/chat-settings/queues" replace />} />
            <Route path="/chat-settings/queues" element={chats(<QueuesPage />)} />
            <Route path="/chat-settings/channels" element={chats(<ChannelsPage />)} />
            <Route path="*" element={<Navigate to="/panel/email" replace />} />
          </Routes>
        </Shell>
      </RealtimeProvider>
    </LanguageProvider>
  );
}
