// Shows a connection test (M5) as steps with the failing one in plain words. Accepts the result
// as `{ ok, steps: [{ step, ok, message }] }` or as `{ ok, failedStep|step, message }`.
import { Alert, Group, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconCheck, IconX, IconMinus } from '@tabler/icons-react';
import { useT, type TKey } from '../i18n/index.js';

export interface TestResult {
  ok: boolean;
  step?: string | null;
  failedStep?: string | null;
  message?: string | null;
  steps?: { step?: string; name?: string; ok: boolean | null; message?: string | null; side?: string }[];
  results?: TestResult[];
  side?: string;
}

const ORDER = ['dns', 'tcp', 'tls', 'login', 'capability'];

export function ConnectionTestResult({ result }: { result: TestResult }) {
  const t = useT();
  const stepName = (s: string) => {
    const k = `test.step.${s.toLowerCase()}` as TKey;
    const v = t(k);
    return v === k ? s : v;
  };
  const parts = result.results ?? [result];
  return (
    <Stack gap="sm" data-testid="connection-test">
      {parts.map((r, i) => {
        const failed = r.failedStep ?? r.step ?? r.steps?.find((s) => s.ok === false)?.step ?? null;
        const steps =
          r.steps?.map((s) => ({ step: s.step ?? s.name ?? '', ok: s.ok, message: s.message })) ??
          ORDER.map((s) => {
            const fi = failed ? ORDER.indexOf(failed.toLowerCase()) : -1;
            const si = ORDER.indexOf(s);
            return { step: s, ok: r.ok ? true : fi < 0 ? null : si < fi ? true : si === fi ? false : null, message: si === fi ? r.message : null };
          });
        return (
          <Alert key={i} color={r.ok ? 'teal' : 'red'} title={(r.side ? `${r.side.toUpperCase()}: ` : '') + (r.ok ? t('test.ok') : t('test.failedAt', { step: failed ? stepName(failed) : '?' }))}>
            <Stack gap={4}>
              {steps.map((s) => (
                <Group key={s.step} gap="xs" wrap="nowrap" align="flex-start">
                  <ThemeIcon size={18} radius="xl" color={s.ok === true ? 'teal' : s.ok === false ? 'red' : 'gray'} variant={s.ok === null ? 'light' : 'filled'}>
                    {s.ok === true ? <IconCheck size={12} /> : s.ok === false ? <IconX size={12} /> : <IconMinus size={12} />}
                  </ThemeIcon>
                  <div>
                    <Text size="sm" fw={s.ok === false ? 650 : 400}>
                      {stepName(s.step)}
                    </Text>
                    {s.message && (
                      <Text size="sm" c={s.ok === false ? 'red.8' : 'dimmed'}>
                        {s.message}
                      </Text>
                    )}
                  </div>
                </Group>
              ))}
              {!r.steps && r.message && !failed && <Text size="sm">{r.message}</Text>}
            </Stack>
          </Alert>
        );
      })}
    </Stack>
  );
}
