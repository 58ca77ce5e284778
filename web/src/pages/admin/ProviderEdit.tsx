// Create / edit a mail provider (M1) with its domains (M3) and a connection test (M5).
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Alert, Badge, Button, Card, Checkbox, Divider, Grid, Group, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Text, TextInput, Title, ActionIcon, Anchor } from '@mantine/core';
import { IconArrowLeft, IconPlugConnected, IconTrash, IconPlus } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, del, errorText, get, patch, post, qs, type Page } from '../../api/client.js';
import { ErrorState, Loading, PageHeader, notifyError, useApiMutation } from '../../components/common.js';
import { ConnectionTestResult, type TestResult } from '../../components/ConnectionTest.js';
import { useT } from '../../i18n/index.js';
import { emptyForm, formField, fromProvider, portForSecurity, securityForPortChange, toBody, validate, type Provider, type ProviderForm, type Security } from './providerModel.js';

export function ProviderEditPage() {
  const { id } = useParams();
  const q = useQuery({ queryKey: ['mail-provider', id], queryFn: () => get<Provider>(`/api/mail-providers/${id}`), enabled: !!id });
  if (id && q.isLoading) return <Loading />;
  if (id && q.error) return <ErrorState error={q.error} />;
  return <ProviderEditor provider={q.data ?? null} key={q.data?.id ?? 'new'} />;
}

function ProviderEditor({ provider }: { provider: Provider | null }) {
  const t = useT();
  const navigate = useNavigate();
  const [f, setF] = useState<ProviderForm>(provider ? fromProvider(provider) : emptyForm);
  const [touched, setTouched] = useState(false);
  const [serverErrs, setServerErrs] = useState<Record<string, string>>({});
  const local = validate(f);
  const errs: Record<string, string | undefined> = {};
  if (touched) for (const [k, v] of Object.entries(local)) errs[k] = t(v);
  for (const [k, v] of Object.entries(serverErrs)) errs[k] ??= v;
  const set = (patchF: Partial<ProviderForm>) => {
    setF((x) => ({ ...x, ...patchF }));
    setServerErrs({});
  };

  const save = useApiMutation(() => (provider ? patch<Provider>(`/api/mail-providers/${provider.id}`, toBody(f)) : post<Provider>('/api/mail-providers', toBody(f))), {
    invalidate: [['mail-providers'], ['mail-provider']],
    success: t('common.saved'),
    onSuccess: (p) => {
      if (!provider && p?.id) navigate(`/admin/mail-providers/${p.id}`, { replace: true });
    },
    onError: (e) => {
      if (e instanceof ApiError && e.details.fields) {
        const m: Record<string, string> = {};
        for (const x of e.details.fields) m[formField(x.field)] = x.message;
        setServerErrs(m);
      }
      notifyError(e);
    },
  });

  const securityData = [
    { value: 'ssl', label: 'SSL/TLS' },
    { value: 'starttls', label: 'STARTTLS' },
    { value: 'none', label: t('providers.securityNone') },
  ];
  const endpoint = (side: 'imap' | 'smtp') => {
    const host = side === 'imap' ? 'imapHost' : 'smtpHost';
    const port = side === 'imap' ? 'imapPort' : 'smtpPort';
    const sec = side === 'imap' ? 'imapSecurity' : 'smtpSecurity';
    return (
      <Card withBorder>
        <Text fw={650} mb="sm">
          {side === 'imap' ? t('providers.incoming') : t('providers.outgoing')}
        </Text>
        <Grid>
          <Grid.Col span={12}>
            <TextInput label={t('providers.serverAddress')} required placeholder={side === 'imap' ? 'imap.example.com' : 'smtp.example.com'} value={f[host]} error={errs[host]} onChange={(e) => set({ [host]: e.currentTarget.value })} data-testid={host} />
          </Grid.Col>
          <Grid.Col span={6}>
            <Select
              label={t('providers.security')}
              data={securityData}
              value={f[sec]}
              allowDeselect={false}
              data-testid={sec}
              onChange={(v) => v && set({ [sec]: v as Security, [port]: portForSecurity(side, v as Security) })}
            />
          </Grid.Col>
          <Grid.Col span={6}>
            <NumberInput
              label={t('providers.port')}
              required
              min={1}
              max={65535}
              allowDecimal={false}
              value={f[port]}
              error={errs[port]}
              data-testid={port}
              onChange={(v) => {
                const n = typeof v === 'number' ? v : v === '' ? '' : Number(v);
                set(typeof n === 'number' && Number.isInteger(n) ? { [port]: n, [sec]: securityForPortChange(side, n, f[sec]) } : { [port]: n });
              }}
            />
          </Grid.Col>
        </Grid>
      </Card>
    );
  };

  return (
    <>
      <Anchor size="sm" onClick={() => navigate('/admin/mail-providers')} mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
        <IconArrowLeft size={14} /> {t('providers.title')}
      </Anchor>
      <PageHeader title={provider ? provider.name : t('providers.add')} description={t('providers.formHint')} />
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setTouched(true);
              if (Object.keys(local).length) return;
              save.mutate(undefined);
            }}
            noValidate
          >
            <Stack>
              <Card withBorder>
                <Stack>
                  <TextInput label={t('providers.name')} required value={f.name} error={errs.name} onChange={(e) => set({ name: e.currentTarget.value })} data-testid="provider-name" />
                  <div>
                    <Text size="sm" fw={500} mb={4}>
                      {t('providers.type')}
                    </Text>
                    <SegmentedControl
                      data={[
                        { value: 'imap', label: 'IMAP / SMTP' },
                        { value: 'exchange', label: 'Exchange / Microsoft 365' },
                      ]}
                      value={f.type}
                      onChange={(v) => set({ type: v as ProviderForm['type'] })}
                    />
                  </div>
                </Stack>
              </Card>
              {f.type === 'imap' ? (
                <>
                  {endpoint('imap')}
                  {endpoint('smtp')}
                  <Card withBorder>
                    <Stack gap="xs">
                      <Checkbox label={t('providers.savesSent')} description={t('providers.savesSentHint')} checked={f.providerSavesSent} onChange={(e) => set({ providerSavesSent: e.currentTarget.checked })} />
                      <Checkbox label={t('providers.selfSigned')} description={t('providers.selfSignedHint')} checked={f.allowSelfSigned} onChange={(e) => set({ allowSelfSigned: e.currentTarget.checked })} />
                    </Stack>
                  </Card>
                </>
              ) : (
                <Card withBorder>
                  <Stack>
                    <TextInput label={t('providers.serviceAddress')} required placeholder="outlook.office365.com" value={f.exchangeHost} error={errs.exchangeHost} onChange={(e) => set({ exchangeHost: e.currentTarget.value })} />
                    <Group>
                      <Checkbox label={t('providers.loadEmails')} checked={f.loadEmails} onChange={(e) => set({ loadEmails: e.currentTarget.checked })} />
                      <Checkbox label={t('providers.sendEmails')} checked={f.sendEmails} onChange={(e) => set({ sendEmails: e.currentTarget.checked })} />
                    </Group>
                    {errs.loadEmails && (
                      <Text c="red" size="sm">
                        {errs.loadEmails}
                      </Text>
                    )}
                  </Stack>
                </Card>
              )}
              <Card withBorder>
                <Stack>
                  <Select
                    label={t('providers.loginFormat')}
                    allowDeselect={false}
                    data={[
                      { value: 'email', label: t('providers.loginEmail') },
                      { value: 'local-part', label: t('providers.loginLocal') },
                      { value: 'manual', label: t('providers.loginManual') },
                    ]}
                    value={f.loginFormat}
                    onChange={(v) => v && set({ loginFormat: v as ProviderForm['loginFormat'] })}
                  />
                  <div>
                    <Text size="sm" fw={500} mb={4}>
                      {t('providers.auth')}
                    </Text>
                    <SegmentedControl
                      data={[
                        { value: 'basic', label: t('providers.basic') },
                        { value: 'oauth2', label: 'OAuth 2.0' },
                      ]}
                      value={f.authMethod}
                      onChange={(v) => set({ authMethod: v as ProviderForm['authMethod'] })}
                      data-testid="auth-method"
                    />
                  </div>
                  {f.authMethod === 'oauth2' && (
                    <>
                      <TextInput label={t('providers.clientId')} required value={f.oauthClientId} error={errs.oauthClientId} onChange={(e) => set({ oauthClientId: e.currentTarget.value })} data-testid="oauth-client-id" />
                      <PasswordInput
                        label={t('providers.clientSecret')}
                        required={!f.hasSecret}
                        description={f.hasSecret ? t('providers.secretKept') : undefined}
                        value={f.oauthClientSecret}
                        error={errs.oauthClientSecret}
                        onChange={(e) => set({ oauthClientSecret: e.currentTarget.value })}
                        autoComplete="new-password"
                        data-testid="oauth-client-secret"
                      />
                    </>
                  )}
                </Stack>
              </Card>
              <Group justify="flex-end">
                <Button variant="default" onClick={() => navigate('/admin/mail-providers')}>
                  {t('common.cancel')}
                </Button>
                <Button type="submit" loading={save.isPending} data-testid="provider-save">
                  {t('common.save')}
                </Button>
              </Group>
            </Stack>
          </form>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <ProviderTest provider={provider} form={f} valid={Object.keys(local).length === 0} onInvalid={() => setTouched(true)} />
            {provider ? (
              <ProviderDomains provider={provider} />
            ) : (
              <Alert color="indigo" variant="light">
                {t('providers.saveFirst')}
              </Alert>
            )}
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}

function ProviderTest({ provider, form, valid, onInvalid }: { provider: Provider | null; form: ProviderForm; valid: boolean; onInvalid: () => void }) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  // Tests what is in the form (saved or not), so the administrator can check before saving.
  const test = useApiMutation(
    () => {
      const creds = email ? { email, password: password || undefined } : {};
      return post<TestResult>(provider && !dirtyVs(provider, form) ? `/api/mail-providers/${provider.id}/test` : '/api/mail-providers/test', provider && !dirtyVs(provider, form) ? creds : { ...toBody(form), ...creds });
    },
    { onSuccess: (r) => setResult(r) },
  );
  return (
    <Card withBorder>
      <Title order={5} mb="xs">
        {t('test.title')}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t('test.hint')}
      </Text>
      <Stack gap="xs">
        <TextInput placeholder={t('test.email')} value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
        <PasswordInput placeholder={t('login.password')} value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="new-password" />
        <Button variant="light" leftSection={<IconPlugConnected size={16} />} loading={test.isPending} onClick={() => (valid ? test.mutate(undefined) : onInvalid())} data-testid="provider-test">
          {t('test.run')}
        </Button>
        {result && <ConnectionTestResult result={result} />}
      </Stack>
    </Card>
  );
}

function dirtyVs(p: Provider, f: ProviderForm): boolean {
  return JSON.stringify(toBody(fromProvider(p))) !== JSON.stringify(toBody(f)) || !!f.oauthClientSecret;
}

interface Domain {
  domain: string;
  providerId: string;
}

function ProviderDomains({ provider }: { provider: Provider }) {
  const t = useT();
  const q = useQuery({ queryKey: ['mail-provider-domains', provider.id], queryFn: () => get<Page<Domain>>(qs('/api/mail-provider-domains', { providerId: provider.id, limit: 500 })) });
  const [domain, setDomain] = useState('');
  const [err, setErr] = useState<string | undefined>();
  useEffect(() => setErr(undefined), [domain]);
  const add = useApiMutation(() => post('/api/mail-provider-domains', { domain: domain.trim().toLowerCase(), providerId: provider.id }), {
    invalidate: [['mail-provider-domains'], ['mail-providers']],
    onSuccess: () => setDomain(''),
    onError: (e) => {
      setErr(errorText(e));
    },
  });
  const remove = useApiMutation((d: string) => del(`/api/mail-provider-domains/${encodeURIComponent(d)}`), { invalidate: [['mail-provider-domains'], ['mail-providers']] });
  const items = (q.data?.items ?? []).filter((d) => d.providerId === provider.id);
  return (
    <Card withBorder>
      <Title order={5} mb="xs">
        {t('domains.forProvider')}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t('domains.hint')}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (domain.trim()) add.mutate(undefined);
        }}
      >
        <Group gap="xs" align="flex-start" mb="sm">
          <TextInput placeholder="example.com" value={domain} error={err} onChange={(e) => setDomain(e.currentTarget.value)} style={{ flex: 1 }} />
          <Button type="submit" variant="light" leftSection={<IconPlus size={14} />} loading={add.isPending}>
            {t('common.add')}
          </Button>
        </Group>
      </form>
      {q.error ? (
        <ErrorState error={q.error} />
      ) : (
        <Group gap={6}>
          {items.length === 0 && (
            <Text size="sm" c="dimmed">
              {t('domains.none')}
            </Text>
          )}
          {items.map((d) => (
            <Badge
              key={d.domain}
              variant="light"
              size="lg"
              rightSection={
                <ActionIcon size="xs" variant="transparent" color="gray" aria-label={t('common.delete')} onClick={() => remove.mutate(d.domain)}>
                  <IconTrash size={12} />
                </ActionIcon>
              }
            >
              {d.domain}
            </Badge>
          ))}
        </Group>
      )}
      <Divider my="sm" />
    </Card>
  );
}
