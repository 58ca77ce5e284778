// A contact or account page: its details and its timeline of mail, chats and activities.
import { useNavigate, useParams } from 'react-router';
import { Anchor, Avatar, Badge, Button, Card, Grid, Group, Stack, Text, ThemeIcon, Timeline, Title } from '@mantine/core';
import { IconArrowLeft, IconCalendarEvent, IconMail, IconMessages, IconNote, IconPhone } from '@tabler/icons-react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { get, qs, type Page } from '../../api/client.js';
import { ErrorState, Loading } from '../../components/common.js';
import { formatDateTime } from '../../components/format.js';
import { useLanguage, useT, type TKey } from '../../i18n/index.js';
import { timelineTitle } from '../../i18n/serverText.js';
import type { Account, Contact, TimelineEntry } from './types.js';

type Kind = 'contacts' | 'accounts';

export function RecordPage({ kind }: { kind: Kind }) {
  const { id } = useParams();
  const t = useT();
  const navigate = useNavigate();
  const rec = useQuery({ queryKey: [kind, 'one', id], queryFn: () => get<Contact & Account>(`/api/${kind}/${id}`) });
  const account = useQuery({ queryKey: ['accounts', 'one', rec.data?.accountId], queryFn: () => get<Account>(`/api/accounts/${rec.data!.accountId}`), enabled: kind === 'contacts' && !!rec.data?.accountId });
  if (rec.isLoading) return <Loading />;
  if (rec.error) return <ErrorState error={rec.error} />;
  const r = rec.data!;
  return (
    <>
      <Anchor size="sm" onClick={() => navigate(`/crm/${kind}`)} mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
        <IconArrowLeft size={14} /> {t(kind === 'contacts' ? 'crm.contacts' : 'crm.accounts')}
      </Anchor>
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card withBorder>
            <Group mb="md">
              <Avatar size={56} radius="xl" color={kind === 'contacts' ? 'indigo' : 'cyan'}>
                {r.name.slice(0, 1).toUpperCase()}
              </Avatar>
              <div>
                <Title order={3}>{r.name}</Title>
                {kind === 'contacts' && r.jobTitle && <Text c="dimmed">{r.jobTitle}</Text>}
                {kind === 'contacts' && (
                  <Badge variant="light" mt={4}>
                    {t(`crm.type.${r.type}` as TKey)}
                  </Badge>
                )}
              </div>
            </Group>
            <Stack gap="xs">
              {kind === 'contacts' &&
                r.emails.map((e) => (
                  <Group key={e.email} gap="xs">
                    <IconMail size={16} color="gray" />
                    <Text size="sm">{e.email}</Text>
                  </Group>
                ))}
              {r.phones.map((p) => (
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
              {account.data && (
                <Text size="sm">
                  {t('crm.account')}: <Anchor onClick={() => navigate(`/crm/accounts/${account.data!.id}`)}>{account.data.name}</Anchor>
                </Text>
              )}
              {r.tags.length > 0 && (
                <Group gap={4}>
                  {r.tags.map((x) => (
                    <Badge key={x.id} variant="outline" color={x.color ?? 'gray'}>
                      {x.name}
                    </Badge>
                  ))}
                </Group>
              )}
              {r.notes && (
                <Text size="sm" c="dimmed" style={{ whiteSpace: 'pre-wrap' }}>
                  {r.notes}
                </Text>
              )}
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
    </>
  );
}

const ICONS: Record<string, typeof IconMail> = { email: IconMail, mail: IconMail, chat: IconMessages, activity: IconCalendarEvent };

function RecordTimeline({ kind, id }: { kind: Kind; id: string }) {
  const t = useT();
  const lang = useLanguage();
  const navigate = useNavigate();
  const q = useInfiniteQuery({
    queryKey: ['timeline', kind, id],
    queryFn: ({ pageParam }) => get<Page<TimelineEntry>>(qs(`/api/${kind}/${id}/timeline`, { limit: 50, cursor: pageParam })),
    initialPageParam: '' as string,
    getNextPageParam: (p) => p.nextCursor ?? undefined,
  });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
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
    {q.hasNextPage && (
      <Group justify="center" mt="md">
        <Button variant="subtle" loading={q.isFetchingNextPage} onClick={() => q.fetchNextPage()} data-testid="timeline-more">
          {t('common.loadMore')}
        </Button>
      </Group>
    )}
    </>
  );
}
