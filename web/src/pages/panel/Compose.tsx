// Compose, reply, reply-all and forward (B4): From offers only mailboxes that may send; the
// mailbox's signature is added when "use signature" is on; files can be attached.
import { useEffect, useMemo, useRef, useState } from 'react';
import DOMPurify from 'dompurify';
import { Badge, Button, CloseButton, FileButton, Group, Modal, Select, Stack, TagsInput, Text, TextInput } from '@mantine/core';
import { IconPaperclip, IconSend } from '@tabler/icons-react';
import { api, fieldErrors } from '../../api/client.js';
import { notifyError, useApiMutation } from '../../components/common.js';
import { SignatureEditor } from '../../components/SignatureEditor.js';
import { formatDateTime, formatSize } from '../../components/format.js';
import { useLanguage, useT } from '../../i18n/index.js';
import { useMailboxes } from '../profile/Mailboxes.js';
import { addr, type EmailDetail } from './mailTypes.js';

export type ComposeMode = 'new' | 'reply' | 'reply-all' | 'forward';

const SIG_MARK = 'data-sb-signature';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The original's HTML for quoting: sanitised, and blocked remote images left out rather than shown broken. */
function quotableHtml(html: string): string {
  const frag = DOMPurify.sanitize(html, { RETURN_DOM_FRAGMENT: true, ADD_ATTR: ['data-blocked-src'], FORBID_TAGS: ['style', 'script'] }) as DocumentFragment;
  frag.querySelectorAll('img[data-blocked-src], img:not([src])').forEach((img) => img.remove());
  const div = document.createElement('div');
  div.appendChild(frag);
  return div.innerHTML;
}

export function ComposeModal({ mode, source, defaultMailboxId, onClose }: { mode: ComposeMode; source?: EmailDetail | null; defaultMailboxId?: string | null; onClose: () => void }) {
  const t = useT();
  const lang = useLanguage();
  const mailboxes = useMailboxes();
  const senders = useMemo(() => (mailboxes.data?.items ?? []).filter((m) => m.settings.sendEnabled && m.status !== 'disabled'), [mailboxes.data]);
  const initialFrom = source?.mailboxId && senders.some((m) => m.id === source.mailboxId) ? source.mailboxId : (defaultMailboxId ?? senders[0]?.id ?? null);
  const [mailboxId, setMailboxId] = useState<string | null>(initialFrom);
  useEffect(() => {
    if (!mailboxId && senders[0]) setMailboxId(initialFrom ?? senders[0].id);
  }, [senders, mailboxId, initialFrom]);
  const mailbox = senders.find((m) => m.id === mailboxId) ?? null;

  const mine = new Set((mailboxes.data?.items ?? []).map((m) => m.email.toLowerCase()));
  const init = useMemo(() => {
    if (!source) return { to: [] as string[], cc: [] as string[], subject: '', quote: '' };
    const re = (s: string, p: string) => (new RegExp(`^${p}:`, 'i').test(s) ? s : `${p}: ${s}`);
    const header = t('mail.quoteHeader', { date: formatDateTime(source.date, lang), from: addr(source.from) });
    const quoted = `<br><br><div>${escapeHtml(header)}</div><blockquote>${source.html ? quotableHtml(source.html) : escapeHtml(source.text ?? '').replace(/\n/g, '<br>')}</blockquote>`;
    if (mode === 'forward') return { to: [], cc: [], subject: re(source.subject, 'Fwd'), quote: quoted };
    const replyTo = (source.replyTo?.length ? source.replyTo : source.from ? [source.from] : []).map((a) => a.address);
    const to = source.direction === 'out' ? source.to.map((a) => a.address) : replyTo;
    const cc = mode === 'reply-all' ? [...source.to, ...source.cc].map((a) => a.address).filter((a) => !mine.has(a.toLowerCase()) && !to.includes(a)) : [];
    return { to, cc, subject: re(source.subject, 'Re'), quote: quoted };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source, mode]);

  const [to, setTo] = useState<string[]>(init.to);
  const [cc, setCc] = useState<string[]>(init.cc);
  const [bcc, setBcc] = useState<string[]>([]);
  const [showCc, setShowCc] = useState(init.cc.length > 0);
  const [subject, setSubject] = useState(init.subject);
  const [body, setBody] = useState(init.quote);
  const [files, setFiles] = useState<File[]>(mode === 'forward' ? [] : []);
  const [errs, setErrs] = useState<Record<string, string>>({});
  const sigFor = useRef<string | null>(null);

  // Put the chosen mailbox's signature in (and swap it when From changes).
  useEffect(() => {
    if (!mailbox || sigFor.current === mailbox.id) return;
    sigFor.current = mailbox.id;
    setBody((b) => {
      const without = b.replace(new RegExp(`<div ${SIG_MARK}="1">[\\s\\S]*?</div><!--/sig-->`), '');
      if (!mailbox.settings.useSignature || !mailbox.settings.signatureHtml) return without;
      const sig = `<div ${SIG_MARK}="1"><br>-- <br>${mailbox.settings.signatureHtml}</div><!--/sig-->`;
      return init.quote && without.endsWith(init.quote) ? without.slice(0, without.length - init.quote.length) + sig + init.quote : without + sig;
    });
  }, [mailbox, init.quote]);

  const send = useApiMutation(
    async () => {
      const message = {
        mailboxId,
        to,
        cc,
        bcc,
        subject,
        html: body,
        inReplyToEmailId: source && mode !== 'forward' && mode !== 'new' ? source.id : undefined,
      };
      // Forwarding carries the original's attachments along.
      const carried: File[] = [];
      if (source && mode === 'forward') {
        for (const a of source.attachments.filter((x) => !x.inline)) {
          const res = await fetch(`/api/emails/${source.id}/attachments/${a.id}`, { credentials: 'same-origin' });
          if (res.ok) carried.push(new File([await res.blob()], a.filename, { type: a.contentType }));
        }
      }
      const all = [...carried, ...files];
      if (all.length === 0) return api('POST', '/api/emails/send', message);
      const fd = new FormData();
      fd.append('message', JSON.stringify(message));
      for (const f of all) fd.append('files', f, f.name);
      return api('POST', '/api/emails/send', fd);
    },
    {
      invalidate: [['emails']],
      success: t('mail.sent'),
      onSuccess: onClose,
      onError: (e) => {
        setErrs(fieldErrors(e));
        notifyError(e);
      },
    },
  );

  const title = { new: t('mail.compose'), reply: t('mail.reply'), 'reply-all': t('mail.replyAll'), forward: t('mail.forward') }[mode];
  return (
    <Modal opened onClose={onClose} title={title} size="xl" closeOnClickOutside={false}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send.mutate(undefined);
        }}
      >
        <Stack gap="sm">
          <Select
            label={t('mail.from')}
            data={senders.map((m) => ({ value: m.id, label: m.settings.alias ? `${m.settings.alias} <${m.settings.defaultSender ?? m.email}>` : (m.settings.defaultSender ?? m.email) }))}
            value={mailboxId}
            onChange={setMailboxId}
            allowDeselect={false}
            error={errs.mailboxId ?? (senders.length === 0 && !mailboxes.isLoading ? t('mail.noSender') : undefined)}
            data-testid="compose-from"
          />
          <TagsInput
            label={t('mail.to')}
            value={to}
            onChange={setTo}
            error={errs.to}
            splitChars={[',', ';', ' ']}
            acceptValueOnBlur
            data-testid="compose-to"
            rightSection={
              !showCc ? (
                <Button size="compact-xs" variant="subtle" mr={6} onClick={() => setShowCc(true)} data-testid="compose-show-cc">
                  {t('mail.ccBcc')}
                </Button>
              ) : undefined
            }
            rightSectionWidth={72}
            clearable={false}
          />
          {showCc && (
            <Group grow>
              <TagsInput label={t('mail.cc')} value={cc} onChange={setCc} error={errs.cc} splitChars={[',', ';', ' ']} acceptValueOnBlur data-testid="compose-cc" />
              <TagsInput label={t('mail.bcc')} value={bcc} onChange={setBcc} error={errs.bcc} splitChars={[',', ';', ' ']} acceptValueOnBlur data-testid="compose-bcc" />
            </Group>
          )}
          <TextInput label={t('mail.subject')} value={subject} error={errs.subject} onChange={(e) => setSubject(e.currentTarget.value)} data-testid="compose-subject" />
          <SignatureEditor value={body} onChange={setBody} onError={(m) => notifyError(new Error(m))} />
          {files.length > 0 && (
            <Group gap={6}>
              {files.map((f, i) => (
                <Badge key={i} variant="light" size="lg" rightSection={<CloseButton size="xs" onClick={() => setFiles(files.filter((_, j) => j !== i))} />}>
                  {f.name} · {formatSize(f.size)}
                </Badge>
              ))}
            </Group>
          )}
          {source && mode === 'forward' && source.attachments.filter((a) => !a.inline).length > 0 && (
            <Text size="xs" c="dimmed">
              {t('mail.forwardAttachments', { n: source.attachments.filter((a) => !a.inline).length })}
            </Text>
          )}
          <Group justify="space-between">
            <FileButton onChange={(fs) => setFiles([...files, ...fs])} multiple>
              {(props) => (
                <Button variant="default" leftSection={<IconPaperclip size={16} />} {...props}>
                  {t('mail.attach')}
                </Button>
              )}
            </FileButton>
            <Group>
              <Button variant="default" onClick={onClose}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" leftSection={<IconSend size={16} />} loading={send.isPending} disabled={!mailboxId || to.length + cc.length + bcc.length === 0} data-testid="compose-send">
                {t('mail.send')}
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
