// Shows a connection test (M5): per server (IMAP, SMTP, Exchange) the steps DNS → TCP → TLS →
// greeting → login → capabilities, with the failing step and the server's reason in plain words.
import { Alert, Group, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconCheck, IconX, IconMinus } from '@tabler/icons-react';
import { useT } from '../i18n/index.js';
import { stepFailedHint, stepName } from '../i18n/serverText.js';

export interface ProbeStep {
  step: string;
  ok: boolean;
  skipped?: boolean;
  ms?: number;
  message: string;
}
export interface ProbeResult {
  protocol: 'imap' | 'smtp' | 'https';
  host: string;
  port: number;
  ok: boolean;
  steps: ProbeStep[];
  failedStep: string | null;
  message: string;
}
export interface TestResult {
  ok: boolean;
  message: string;
  failedStep: string | null;
  imap?: ProbeResult | null;
  smtp?: ProbeResult | null;
  exchange?: ProbeResult | null;
}

export function ConnectionTestResult({ result }: { result: TestResult }) {
  const t = useT();
  const probes = [result.imap, result.smtp, result.exchange].filter((p): p is ProbeResult => !!p);
  return (
    <Stack gap="sm" data-testid="connection-test" data-ok={result.ok}>
      <Alert color={result.ok ? 'teal' : 'red'} title={result.ok ? t('test.ok') : result.failedStep ? t('test.failedAt', { step: stepName(t, result.failedStep) }) : t('test.failed')}>
        {!result.ok && stepFailedHint(t, result.failedStep) && <Text size="sm">{stepFailedHint(t, result.failedStep)}</Text>}
        <Text size="xs" c="dimmed">
          {t('test.serverSaid', { message: result.message })}
        </Text>
      </Alert>
      {probes.map((p) => (
        <Stack key={p.protocol} gap={4}>
          <Text size="sm" fw={650}>
            {p.protocol.toUpperCase()} · {p.host}:{p.port}
          </Text>
          {p.steps.map((s) => {
            const state = s.skipped ? null : s.ok;
            return (
              <Group key={s.step} gap="xs" wrap="nowrap" align="flex-start">
                <ThemeIcon size={18} radius="xl" color={state === true ? 'teal' : state === false ? 'red' : 'gray'} variant={state === null ? 'light' : 'filled'}>
                  {state === true ? <IconCheck size={12} /> : state === false ? <IconX size={12} /> : <IconMinus size={12} />}
                </ThemeIcon>
                <div>
                  <Text size="sm" fw={state === false ? 650 : 400}>
                    {stepName(t, s.step)}
                    {s.ms != null && state !== null && (
                      <Text span size="xs" c="dimmed">
                        {' · '}
                        {t('test.ms', { n: Math.round(s.ms) })}
                      </Text>
                    )}
                  </Text>
                  {state === false && s.message && (
                    <Text size="sm" c="red.8">
                      {s.message}
                    </Text>
                  )}
                </div>
              </Group>
            );
          })}
        </Stack>
      ))}
    </Stack>
  );
}
