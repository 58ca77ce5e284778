// A contact, account or case page: its details, its tags (add/remove), who it is shared with, and
// its timeline of mail, chats, activities and its own history.
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Anchor, Avatar, Badge, Button, Card, Divider, Grid, Group, Stack, Text, ThemeIcon, Timeline, Title } from '@mantine/core';
import { IconArrowLeft, IconCalendarEvent, IconEdit, IconFolderPlus, IconMail, IconMessages, IconNote, IconPhone, IconShare } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client.js';
import { useSession } from '../../api/session.js';
import { ErrorState, Loading } from '../../components/common.js';
import { LoadMore, usePagedList } from '../../components/paged.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT, type TKey } from '../../i18n/index.js';
import { timelineTitle } from '../../i18n/serverText.js';
import type { Account, Case, Contact, Share, TimelineEntry } from './types.js';
import { CASE_PRIORITY_COLOR, CASE_STATUS_COLOR, CaseFormModal } from './Cases.js';
import { RecordTags } from './RecordTags.js';
import { ShareDialog } from './ShareDialog.js';
import { AddToGroupDialog } from './Group.js';

type Kind = 'contacts' | 'accounts' | 'cases';
type AnyRecord = Contact & Account & Case;

const LIST_TITLE: Record<Kind, TKey> = { contacts: 'crm.contacts', accounts: 'crm.accounts', cases: 'crm.cases' };

export function RecordPage({ kind }: { kind: Kind }) {
  const { id } = useParams();
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const [sharing, setSharing] = useState(false);
  const [editing, setEditing] = useState(false);
  const [grouping, setGrouping] = useState(false);
  const rec = useQuery({ queryKey: [kind, 'one', id], queryFn: () => get<AnyRecord>(`/api/${kind}/${id}`) });
  const accountId = kind === 'accounts' ? null : rec.data?.accountId;
  const account = useQuery({ queryKey: ['accounts', 'one', accountId], queryFn: () => get<Account>(`/api/accounts/${accountId}`), enabled: !!accountId, retry: false });
  const contactId = kind === 'cases' ? rec.data?.contactId : null;
  const contact = useQuery({ queryKey: ['contacts', 'one', contactId], queryFn: () => get<Contact>(`/api/contacts/${contactId}`), enabled: !!contactId, retry: false });
  const { me, can } = useSession();
  // What the user may do here: the owner and administrators everything; others what their share
  // (for them or one of their roles) allows. Shares are readable by anyone who sees the record.
  const shares = useQuery({ queryKey: ['shares', kind, id], queryFn: () => get<{ shares: Share[] }>(`/api/${kind}/${id}/shares`), enabled: !!rec.data, retry: false });
  if (rec.isLoading) return <Loading />;
  if (rec.error) return <ErrorState error={rec.error} />;
  const r = rec.data!;
  const mine = (s: Share) => (s.userId !== null && s.userId === me?.id) || (s.roleId !== null && !!me?.roleIds.includes(s.roleId));
  const canEdit = r.ownerId === me?.id || can('CanManageAdministration') || !shares.data || shares.data.shares.some((s) => mine(s) && s.access === 'edit');
  const title = kind === 'cases' ? r.subject : r.name;
  return (
    <>
      <Anchor size="sm" onClick={() => navigate(`/crm/${kind}`)} mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
        <IconArrowLeft size={14} /> {t(LIST_TITLE[kind])}
      </Anchor>
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card withBorder>
            <Group mb="md" wrap="nowrap" align="flex-start">
              <Avatar size={56} radius="xl" color={kind === 'contacts' ? 'indigo' : kind === 'cases' ? 'orange' : 'cyan'}>
                {kind === 'cases' ? `#${r.number}` : title.slice(0, 1).toUpperCase()}
              </Avatar>
              <div>
                {kind === 'cases' && (
                  <Text size="xs" c="dimmed">
                    {t('crm.caseNumber', { number: r.number })}
                  </Text>
                )}
                <Title order={3} data-testid="record-title">
                  {title}
                </Title>
                {kind === 'contacts' && r.jobTitle && <Text c="dimmed">{r.jobTitle}</Text>}
                {kind === 'contacts' && (
                  <Badge variant="light" mt={4}>
                    {t(`crm.type.${r.type}` as TKey)}
                  </Badge>
                )}
                {kind === 'cases' && (
                  <Group gap={6} mt={4}>
                    <Badge variant="light" color={CASE_STATUS_COLOR[r.status]} data-testid="case-status">
                      {t(`crm.status.${r.status}` as TKey)}
                    </Badge>
                    <Badge variant="dot" color={CASE_PRIORITY_COLOR[r.priority]}>
                      {t(`crm.priority.${r.priority}` as TKey)}
                    </Badge>
                  </Group>
                )}
              </div>
            </Group>
            <Group gap="xs" mb="md">
              {kind === 'cases' && canEdit && (
                <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setEditing(true)} data-testid="case-edit">
                  {t('common.edit')}
                </Button>
              )}
              <Button size="xs" variant="light" leftSection={<IconShare size={14} />} onClick={() => setSharing(true)} data-testid="record-share">
                {t('crm.share')}
              </Button>
              {kind === 'contacts' && (
                <Button size="xs" variant="light" leftSection={<IconFolderPlus size={14} />} onClick={() => setGrouping(true)} data-testid="record-add-to-group">
                  {t('crm.addToGroup')}
                </Button>
              )}
              {!canEdit && (
                <Badge variant="light" color="gray" data-testid="record-read-only">
                  {t('crm.readOnly')}
                </Badge>
              )}
            </Group>
            <Stack gap="xs">
              {kind === 'contacts' &&
                r.emails.map((e) => (
                  <Group key={e.email} gap="xs">
                    <IconMail size={16} color="gray" />
                    <Text size="sm">{e.email}</Text>
                  </Group>
                ))}
              {kind !== 'cases' &&
                r.phones.map((p) => (
                  <Group key={p.phone} gap="xs">
                    <IconPhone size={16} color="gray" />
                    <Text size="sm">{p.phone}</Text>
                  </Group>
                ))}
              {kind === 'accounts' && r.domain && (
                <Text size="sm">
                  {t('crm.domain')}: {r.domain}
                </Text>
              )}
              {contact.data && (
                <Text size="sm">
                  {t('crm.contact')}: <Anchor onClick={() => navigate(`/crm/contacts/${contact.data!.id}`)}>{contact.data.name}</Anchor>
                </Text>
              )}
              {account.data && (
                <Text size="sm">
                  {t('crm.account')}: <Anchor onClick={() => navigate(`/crm/accounts/${account.data!.id}`)}>{account.data.name}</Anchor>
                </Text>
              )}
              {kind === 'cases' && r.closedAt && (
                <Text size="sm" c="dimmed">
                  {t('crm.closedAt', { date: formatDateTime(r.closedAt, lang) })}
                </Text>
              )}
              {kind === 'cases' && r.description && (
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="case-description">
                  {r.description}
                </Text>
              )}
              {kind !== 'cases' && r.notes && (
                <Text size="sm" c="dimmed" style={{ whiteSpace: 'pre-wrap' }}>
                  {r.notes}
                </Text>
              )}
              <Divider my={4} />
              <RecordTags kind={kind} id={r.id} tags={r.tags} canEdit={canEdit} />
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Card withBorder>
            <Title order={4} mb="md">
              {t('crm.timeline')}
            </Title>
            <RecordTimeline kind={kind} id={r.id} />
          </Card>
        </Grid.Col>
      </Grid>
      {sharing && <ShareDialog kind={kind} id={r.id} ownerId={r.ownerId} onClose={() => setSharing(false)} />}
      {editing && <CaseFormModal existing={r} onClose={() => setEditing(false)} />}
      {grouping && <AddToGroupDialog contactId={r.id} onClose={() => setGrouping(false)} />}
    </>
  );
}

const ICONS: Record<string, typeof IconMail> = { email: IconMail, mail: IconMail, chat: IconMessages, activity: IconCalendarEvent };

export function RecordTimeline({ kind, id }: { kind: Kind | 'groups'; id: string }) {
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const { query: q, rows: items } = usePagedList<TimelineEntry>(['timeline', kind, id], `/api/${kind}/${id}/timeline`);
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  if (items.length === 0) return <Text c="dimmed">{t('crm.timelineEmpty')}</Text>;
  return (
    <>
    <Timeline bulletSize={28} lineWidth={2} data-testid="timeline">
      {items.map((e) => {
        const Icon = ICONS[e.source] ?? ICONS[e.kind.split('.')[0] ?? ''] ?? IconNote;
        const link = e.source === 'email' || e.kind.startsWith('email') ? `/panel/email?id=${String(e.data.emailId ?? e.data.id ?? '')}` : e.source === 'chat' ? `/panel/chat?id=${String(e.data.chatId ?? e.data.id ?? '')}` : null;
        return (
          <Timeline.Item
            key={e.id}
            bullet={
              <ThemeIcon size={28} radius="xl" variant="light">
                <Icon size={15} />
              </ThemeIcon>
            }
            title={
              <Group justify="space-between" wrap="nowrap">
                {link ? (
                  <Anchor size="sm" fw={600} onClick={() => navigate(link)}>
                    {timelineTitle(t, e)}
                  </Anchor>
                ) : (
                  <Text size="sm" fw={600}>
                    {timelineTitle(t, e)}
                  </Text>
                )}
                <Text size="xs" c="dimmed">
                  {formatDateTime(e.at, lang)}
                </Text>
              </Group>
            }
          >
            {typeof e.data.snippet === 'string' && (
              <Text size="sm" c="dimmed" lineClamp={2}>
                {e.data.snippet}
              </Text>
            )}
          </Timeline.Item>
        );
      })}
    </Timeline>
    <LoadMore list={q} testId="timeline-more" />
    </>
  );
}
