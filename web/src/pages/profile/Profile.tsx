import { useState } from 'react';
import { Button, Card, Group, PasswordInput, Select, Stack, TextInput, Title, Badge, Text } from '@mantine/core';
import { fieldErrors, patch } from '../../api/client.js';
import { useMe, useSession } from '../../api/session.js';
import { PageHeader, notifyError, notifyOk } from '../../components/common.js';
import { LANGUAGES, useT, type Language } from '../../i18n/index.js';

export function ProfilePage() {
  const t = useT();
  const me = useMe();
  const { setLanguage, logout, updateMe } = useSession();
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState(me.name);
  const [pw, setPw] = useState({ currentPassword: '', newPassword: '' });
  const [errs, setErrs] = useState<Record<string, string>>({});
  return (
    <>
      <PageHeader title={t('nav.profile')} description={me.email} />
      <Stack maw={560}>
        <Card withBorder>
          <Stack>
            <TextInput label={t('users.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="profile-name" />
            <Select
              label={t('shell.language')}
              data={LANGUAGES}
              value={me.language}
              allowDeselect={false}
              onChange={(v) => v && setLanguage(v as Language).catch(notifyError)}
            />
            <div>
              <Text size="sm" fw={500} mb={4}>
                {t('users.roles')}
              </Text>
              <Group gap={4}>
                {me.roles.map((r) => (
                  <Badge key={r.id} variant="light">
                    {r.name}
                  </Badge>
                ))}
                {me.operations.map((o) => (
                  <Badge key={o} variant="outline" color="gray">
                    {o}
                  </Badge>
                ))}
              </Group>
            </div>
            <Group justify="flex-end">
              <Button
                disabled={!name.trim() || name.trim() === me.name}
                loading={saving}
                data-testid="profile-save"
                onClick={() => {
                  setSaving(true);
                  updateMe({ name: name.trim() })
                    .then(() => {
                      setName(name.trim());
                      notifyOk(t('common.saved'));
                    })
                    .catch(notifyError)
                    .finally(() => setSaving(false));
                }}
              >
                {t('common.save')}
              </Button>
            </Group>
          </Stack>
        </Card>
        <Card withBorder>
          <Title order={5} mb="sm">
            {t('profile.changePassword')}
          </Title>
          <Stack>
            <PasswordInput label={t('profile.currentPassword')} value={pw.currentPassword} error={errs.currentPassword} onChange={(e) => setPw({ ...pw, currentPassword: e.currentTarget.value })} />
            <PasswordInput label={t('users.newPassword')} value={pw.newPassword} error={errs.newPassword} onChange={(e) => setPw({ ...pw, newPassword: e.currentTarget.value })} />
            <Group justify="flex-end">
              <Button
                disabled={!pw.newPassword}
                onClick={() =>
                  patch('/api/auth/me', pw)
                    .then(() => {
                      notifyOk(t('profile.passwordChanged'));
                      return logout();
                    })
                    .catch((e) => {
                      setErrs(fieldErrors(e));
                      notifyError(e);
                    })
                }
              >
                {t('profile.changePassword')}
              </Button>
            </Group>
          </Stack>
        </Card>
      </Stack>
    </>
  );
}
