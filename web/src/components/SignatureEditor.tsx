// A small rich-text editor for mail signatures (B4): accepts HTML pasted from a mail client and
// images (pasted, dropped or picked) which become data: URLs inside the HTML. Pasted HTML is
// sanitised here too (the server sanitises again), so scripts and event handlers never get in.
import { useEffect, useRef } from 'react';
import DOMPurify from 'dompurify';
import { ActionIcon, FileButton, Group, Tooltip } from '@mantine/core';
import { IconBold, IconItalic, IconUnderline, IconLink, IconPhoto, IconClearFormatting } from '@tabler/icons-react';
import { useT } from '../i18n/index.js';

const MAX_IMAGE_BYTES = 512 * 1024;

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

export function cleanHtml(html: string): string {
  return DOMPurify.sanitize(html, { ADD_DATA_URI_TAGS: ['img'], FORBID_TAGS: ['style', 'script', 'iframe', 'form', 'input'], FORBID_ATTR: ['onerror', 'onload'] });
}

export function SignatureEditor({ value, onChange, onError }: { value: string; onChange: (html: string) => void; onError?: (msg: string) => void }) {
  const t = useT();
  const ref = useRef<HTMLDivElement>(null);
  const last = useRef<string>('');

  // Only write into the DOM when the value changes from outside (typing keeps the caret).
  useEffect(() => {
    if (ref.current && value !== last.current) {
      ref.current.innerHTML = cleanHtml(value);
      last.current = value;
    }
  }, [value]);

  const emit = () => {
    const html = ref.current?.innerHTML ?? '';
    last.current = html;
    onChange(html);
  };
  const exec = (cmd: string, arg?: string) => {
    ref.current?.focus();
    document.execCommand(cmd, false, arg);
    emit();
  };
  const insertImages = async (files: File[]) => {
    for (const f of files) {
      if (!f.type.startsWith('image/')) continue;
      if (f.size > MAX_IMAGE_BYTES) {
        onError?.(t('signature.imageTooLarge'));
        continue;
      }
      const url = await readAsDataUrl(f);
      exec('insertHTML', `<img src="${url}" alt="${f.name.replace(/"/g, '')}">`);
    }
  };

  return (
    <div>
      <Group gap={4} mb={6}>
        <Tooltip label={t('signature.bold')}>
          <ActionIcon variant="default" onClick={() => exec('bold')} aria-label={t('signature.bold')}>
            <IconBold size={16} />
          </ActionIcon>
        </Tooltip>
        <Tooltip label={t('signature.italic')}>
          <ActionIcon variant="default" onClick={() => exec('italic')} aria-label={t('signature.italic')}>
            <IconItalic size={16} />
          </ActionIcon>
        </Tooltip>
        <Tooltip label={t('signature.underline')}>
          <ActionIcon variant="default" onClick={() => exec('underline')} aria-label={t('signature.underline')}>
            <IconUnderline size={16} />
          </ActionIcon>
        </Tooltip>
        <Tooltip label={t('signature.link')}>
          <ActionIcon
            variant="default"
            aria-label={t('signature.link')}
            onClick={() => {
              const url = window.prompt(t('signature.linkPrompt'), 'https://');
              if (url && /^(https?:|mailto:|tel:)/i.test(url)) exec('createLink', url);
            }}
          >
            <IconLink size={16} />
          </ActionIcon>
        </Tooltip>
        <FileButton onChange={(files) => void insertImages(files)} accept="image/*" multiple>
          {(props) => (
            <Tooltip label={t('signature.insertImage')}>
              <ActionIcon variant="default" aria-label={t('signature.insertImage')} {...props}>
                <IconPhoto size={16} />
              </ActionIcon>
            </Tooltip>
          )}
        </FileButton>
        <Tooltip label={t('signature.clear')}>
          <ActionIcon variant="default" onClick={() => exec('removeFormat')} aria-label={t('signature.clear')}>
            <IconClearFormatting size={16} />
          </ActionIcon>
        </Tooltip>
      </Group>
      <div
        ref={ref}
        className="signature-editor"
        contentEditable
        suppressContentEditableWarning
        role="textbox"
        aria-multiline="true"
        aria-label={t('mailbox.signature')}
        data-testid="signature-editor"
        onInput={emit}
        onBlur={emit}
        onPaste={(e) => {
          const files = Array.from(e.clipboardData.files ?? []);
          if (files.some((f) => f.type.startsWith('image/'))) {
            e.preventDefault();
            void insertImages(files);
            return;
          }
          const html = e.clipboardData.getData('text/html');
          if (html) {
            e.preventDefault();
            document.execCommand('insertHTML', false, cleanHtml(html));
            emit();
          }
        }}
        onDrop={(e) => {
          const files = Array.from(e.dataTransfer.files ?? []);
          if (files.length) {
            e.preventDefault();
            void insertImages(files);
          }
        }}
      />
    </div>
  );
}
