// Add a mailbox (B1): email → provider detected from the domain (or picked by hand; the server
// then remembers the domain, M3) → password (or the provider's login) → verified against the real
// servers on create → done, with links to the mail and to the mailbox settings.
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Alert, Anchor, Button, Card, Group, PasswordInput, Select, Stack, Stepper, Text, TextInput, ThemeIcon, Title } from '@mantine/core';
import { IconCircleCheck, IconInbox, IconSettings } from '@tabler/icons-react';
import { ApiError, errorText, fieldErrors, post } from '../../api/client.js';
import { PageHeader } from '../../components/common.js';
import { ConnectionTestResult, type TestResult } from '../../components/ConnectionTest.js';
import { useT } from '../../i18n/index.js';
import { useProviders } from '../admin/Providers.js';
import type { Provider } from '../admin/providerModel.js';
import type { Mailbox } from './mailboxTypes.js';
import { useQueryClient } from '@tanstack/react-query';

interface Detected {
  provider: Provider | null;
  authMethod: 'basic' | 'oauth2' | string;
}

export function AddMailboxPage() {
  const t = useT();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const providers = useProviders();
  const [step, setStep] = useState(0);
  const [email, setEmail] = useState('');
  const [detected, setDetected] = useState<Detected | null>(null);
  const [picking, setPicking] = useState(false);
  const [providerId, setProviderId] = useState<string | null>(null);
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errs, setErrs] = useState<Record<string, string>>({});
  const [test, setTest] = useState<TestResult | null>(null);
  const [created, setCreated] = useState<Mailbox | null>(null);

  const provider = picking || !detected?.provider ? (providers.data?.items.find((p) => p.id === providerId) ?? null) : detected.provider;
  const authMethod = provider?.authMethod ?? detected?.authMethod ?? 'basic';

  const detect = async () => {
    setBusy(true);
    setError(null);
    setErrs({});
    try {
      const d = await post<Detected>('/api/mailboxes/detect', { email: email.trim() });
      setDetected(d);
      setPicking(!d.provider);
      setProviderId(d.provider?.id ?? null);
      setStep(1);
    } catch (e) {
      setErrs(fieldErrors(e));
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const create = async () => {
    setBusy(true);
    setError(null);
    setErrs({});
    setTest(null);
    try {
      const body: Record<string, unknown> = { email: email.trim(), password };
      if (picking && providerId) body.providerId = providerId;
      if (provider?.loginFormat === 'manual' && login) body.login = login;
      const m = await post<Mailbox>('/api/mailboxes', body);
      setCreated(m);
      setStep(2);
      await qc.invalidateQueries({ queryKey: ['mailboxes'] });
      await qc.invalidateQueries({ queryKey: ['notifications'] });
    } catch (e) {
      setErrs(fieldErrors(e));
      setError(errorText(e));
      if (e instanceof ApiError && e.code === 'MAILBOX_VERIFICATION_FAILED') {
        const d = e.details as Partial<TestResult>;
        setTest({ ok: false, message: e.message, failedStep: d.failedStep ?? null, imap: d.imap ?? null, smtp: d.smtp ?? null });
        setError(null);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={t('mailbox.add')} description={t('mailbox.addHint')} />
      <Card withBorder maw={720} p="xl">
        <Stepper active={step} size="sm" mb="xl">
          <Stepper.Step label={t('mailbox.stepEmail')} />
          <Stepper.Step label={t('mailbox.stepSignIn')} />
          <Stepper.Step label={t('mailbox.stepDone')} />
        </Stepper>
        {error && (
          <Alert color="red" mb="md" data-testid="add-mailbox-error">
            {error}
          </Alert>
        )}
        {test && <ConnectionTestResult result={test} />}
        {step === 0 && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void detect();
            }}
          >
            <Stack>
              <TextInput label={t('mailbox.email')} type="email" required placeholder="name@company.com" value={email} error={errs.email} onChange={(e) => setEmail(e.currentTarget.value)} data-testid="mailbox-email" autoFocus />
              <Group justify="flex-end">
                <Button type="submit" loading={busy} disabled={!email.includes('@')}>
                  {t('common.next')}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
        {step === 1 && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void create();
            }}
          >
            <Stack>
              <Text size="sm">
                <b>{email}</b>
              </Text>
              {!picking && detected?.provider ? (
                <Alert color="indigo" variant="light" data-testid="detected-provider">
                  {t('mailbox.detected', { name: detected.provider.name })}{' '}
                  <Anchor size="sm" onClick={() => setPicking(true)}>
                    {t('mailbox.otherProvider')}
                  </Anchor>
                </Alert>
              ) : (
                <Select
                  label={t('mailbox.chooseProvider')}
                  description={detected?.provider ? undefined : t('mailbox.unknownDomain', { domain: email.split('@')[1] ?? '' })}
                  required
                  searchable
                  data={(providers.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))}
                  value={providerId}
                  error={errs.providerId}
                  onChange={setProviderId}
                  data-testid="provider-picker"
                />
              )}
              {authMethod === 'oauth2' ? (
                <Alert color="grape" variant="light">
                  {t('mailbox.oauthHint', { name: provider?.name ?? '' })}
                </Alert>
              ) : (
                <>
                  {provider?.loginFormat === 'manual' && <TextInput label={t('mailbox.login')} required value={login} error={errs.login} onChange={(e) => setLogin(e.currentTarget.value)} />}
                  <PasswordInput
                    label={t('login.password')}
                    description={t('mailbox.passwordHint')}
                    required
                    value={password}
                    error={errs.password}
                    onChange={(e) => setPassword(e.currentTarget.value)}
                    autoComplete="new-password"
                    data-testid="mailbox-password"
                  />
                </>
              )}
              <Group justify="space-between">
                <Button variant="default" onClick={() => setStep(0)}>
                  {t('common.back')}
                </Button>
                <Button type="submit" loading={busy} disabled={(picking && !providerId) || authMethod === 'oauth2'} data-testid="mailbox-connect">
                  {busy ? t('mailbox.verifying') : t('mailbox.connect')}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
        {step === 2 && created && (
          <Stack align="center" gap="sm" py="md" data-testid="mailbox-added">
            <ThemeIcon size={64} radius="xl" color="teal" variant="light">
              <IconCircleCheck size={36} />
            </ThemeIcon>
            <Title order={3}>{t('mailbox.added')}</Title>
            <Text c="dimmed" ta="center" maw={460}>
              {t('mailbox.addedText', { email: created.email })}
            </Text>
            <Group mt="sm">
              <Button leftSection={<IconInbox size={16} />} onClick={() => navigate(`/panel/email?mailboxId=${created.id}`)}>
                {t('mailbox.openMail')}
              </Button>
              <Button variant="light" leftSection={<IconSettings size={16} />} onClick={() => navigate(`/profile/mailboxes/${created.id}`)}>
                {t('mailbox.settings')}
              </Button>
            </Group>
          </Stack>
        )}
      </Card>
    </>
  );
}
