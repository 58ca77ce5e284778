import { describe, expect, it } from 'vitest';
import { messageIdList, messageKey, normaliseMessageId, parseMessage } from './parse.js';
import { createParserPool } from './parse-pool.js';
import { replyReferences, replySubject, signatureParts } from './send.js';
import { batchBySize, uidSet } from '../../connectors/imap/client.js';
import { classifySmtpError } from '../../connectors/smtp/index.js';
import { classifyImapError } from '../../connectors/imap/errors.js';

describe('message identity', () => {
  it('normalises Message-IDs and reference lists', () => {
    expect(normaliseMessageId(' <Abc.Def@Host.Example> ')).toBe('abc.def@host.example');
    expect(normaliseMessageId('')).toBeNull();
    expect(messageIdList('<a@x> <b@y>\r\n <a@x>')).toEqual(['a@x', 'b@y']);
    expect(messageIdList('a@x, b@y')).toEqual(['a@x', 'b@y']);
  });
  it('keys by Message-ID, else by a hash of from/date/subject/size', () => {
    expect(messageKey({ messageId: 'a@x', from: null, date: null, subject: '' }, 10)).toBe('mid:a@x');
    const k1 = messageKey({ messageId: null, from: { name: '', address: 'f@x' }, date: null, subject: 's' }, 10, 'Mon, 1 Jan 2024');
    const k2 = messageKey({ messageId: null, from: { name: '', address: 'f@x' }, date: null, subject: 's' }, 10, 'Mon, 1 Jan 2024');
    const k3 = messageKey({ messageId: null, from: { name: '', address: 'f@x' }, date: null, subject: 's' }, 11, 'Mon, 1 Jan 2024');
    expect(k1).toBe(k2);
    expect(k1).not.toBe(k3);
    expect(k1.startsWith('h:')).toBe(true);
  });
  it('falls back to a header-only parse and marks parse_error instead of throwing', async () => {
    let deep = 'Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\r\nMessage-ID: <deep@x>\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n';
    for (let i = 1; i < 70; i++) deep += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n`;
    const p = await parseMessage(Buffer.from(deep));
    expect(p.parseError).toBeTruthy();
    expect(p.subject).toBe('Привет');
    expect(p.messageId).toBe('deep@x');
    // Same result through the worker-thread pool, and attachments survive the transfer.
    const pool = createParserPool(1);
    try {
      const viaPool = await pool.parse(Buffer.from(deep));
      expect(viaPool.parseError).toBeTruthy();
      expect(viaPool.subject).toBe('Привет');
      const withAtt = await pool.parse(Buffer.from('Subject: a\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--x--\r\n'));
      expect(withAtt.text?.trim()).toBe('hi');
      expect([...withAtt.attachments[0].content]).toEqual([0, 1, 2, 3]);
    } finally {
      await pool.close();
    }
  });
});

describe('replies and signatures', () => {
  it('builds References from the parent (or its In-Reply-To) and trims long chains from the middle', () => {
    expect(replyReferences({ message_id: 'p@x', in_reply_to: 'g@x', references_json: '[]' })).toEqual(['g@x', 'p@x']);
    expect(replyReferences({ message_id: 'p@x', in_reply_to: 'g@x', references_json: '["r1@x","g@x"]' })).toEqual(['r1@x', 'g@x', 'p@x']);
    const long = replyReferences({ message_id: 'p@x', in_reply_to: null, references_json: JSON.stringify(Array.from({ length: 40 }, (_, i) => `r${i}@x`)) });
    expect(long).toHaveLength(20);
    expect(long[0]).toBe('r0@x');
    expect(long[19]).toBe('p@x');
    expect(replySubject('Hello')).toBe('Re: Hello');
    expect(replySubject('RE: Hello')).toBe('RE: Hello');
  });
  it('turns data: images of a signature into inline cid parts', () => {
    const s = signatureParts('<p>Me</p><img src="data:image/png;base64,iVBORw0KGgo=">', 'acme.test');
    expect(s.attachments).toHaveLength(1);
    expect(s.html).toContain(`src="cid:${s.attachments[0].cid}"`);
    expect(s.html).not.toContain('data:');
  });
});

describe('connectors', () => {
  it('compresses UID sets and bounds fetch batches by count and bytes', () => {
    expect(uidSet([5, 1, 2, 3, 9, 10, 12])).toBe('1:3,5,9:10,12');
    expect(batchBySize([{ uid: 1, size: 10 }, { uid: 2, size: 10 }, { uid: 3, size: 100 }, { uid: 4, size: 1 }], 10, 50)).toEqual([[1, 2], [3], [4]]);
    expect(batchBySize([{ uid: 1, size: 1 }, { uid: 2, size: 1 }, { uid: 3, size: 1 }], 2, 1000)).toEqual([[1, 2], [3]]);
  });
  it('classifies SMTP replies: 4xx transient, 5xx permanent, 535 auth', () => {
    expect(classifySmtpError({ responseCode: 451, response: '451 4.3.0 try later' }).kind).toBe('transient');
    expect(classifySmtpError({ responseCode: 421 }).kind).toBe('transient');
    expect(classifySmtpError({ responseCode: 550, response: '550 5.1.1 no such user' }).kind).toBe('permanent');
    expect(classifySmtpError({ responseCode: 535, code: 'EAUTH' }).kind).toBe('auth');
    expect(classifySmtpError({ responseCode: 550, response: '550 5.7.30 Basic authentication is not supported' }).message).toMatch(/OAuth/);
    expect(classifySmtpError({ code: 'ECONNRESET' }).kind).toBe('transient');
  });
  it('classifies IMAP failures', () => {
    expect(classifyImapError({ authenticationFailed: true }).kind).toBe('auth');
    expect(classifyImapError({ code: 'ECONNREFUSED' }).kind).toBe('transient');
    expect(classifyImapError({ serverResponseCode: 'NONEXISTENT' }).kind).toBe('not-found');
  });
});
