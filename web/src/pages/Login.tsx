import { useState } from 'react';
import { Alert, Box, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title, Group } from '@mantine/core';
import { IconMessages } from '@tabler/icons-react';
import { useSession } from '../api/session.js';
import { ApiError, errorText } from '../api/client.js';
import { useT } from '../i18n/index.js';

export function LoginPage() {
  const t = useT();
  const { login } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  return (
    <Center h="100vh" bg="linear-gradient(135deg, var(--mantine-color-indigo-0), var(--mantine-color-gray-0))">
      <Paper w={400} p="xl" radius="lg" shadow="md" withBorder>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            login(email, password)
              .catch((err) => setError(err instanceof ApiError && err.code === 'UNAUTHORIZED' ? t('login.wrong') : errorText(err)))
              .finally(() => setBusy(false));
          }}
        >
          <Stack>
            <Group gap="xs">
              <Box w={36} h={36} bg="indigo.6" style={{ borderRadius: 10, display: 'grid', placeItems: 'center' }}>
                <IconMessages size={22} color="white" />
              </Box>
              <Title order={3}>Switchboard</Title>
            </Group>
            <Text c="dimmed" size="sm">
              {t('login.subtitle')}
            </Text>
            {error && (
              <Alert color="red" data-testid="login-error">
                {error}
              </Alert>
            )}
            <TextInput label={t('login.email')} name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
            <PasswordInput label={t('login.password')} name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
            <Button type="submit" loading={busy} fullWidth>
              {t('login.submit')}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
