import { describe, expect, it } from 'vitest';
import PostalMime from 'postal-mime';
import { concatBlobClass } from './concat-blob.js';
import { createParserPool, type ParserPool } from './parse-pool.js';

const ConcatBlob = concatBlobClass();

describe('ConcatBlob (the parse worker\'s stand-in for Blob)', () => {
  it('concatenates strings, views and ArrayBuffers into a buffer of its own', async () => {
    const pooled = Buffer.from('xxBCxx');
    const b = new ConcatBlob(['A', pooled.subarray(2, 4), new Uint8Array([68]).buffer, 'é'], { type: 'application/octet-stream' });
    const ab = await b.arrayBuffer();
    expect(Buffer.from(ab).toString('utf8')).toBe('ABCDé');
    expect(b.size).toBe(6);
    expect(ab.byteLength).toBe(6);
    expect(b.type).toBe('application/octet-stream');
  });

  it('gives postal-mime the same result as the real Blob, from the source text the worker installs', async () => {
    const raw = Buffer.from(
      'From: a@example.org\r\nSubject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
        '--b\r\nContent-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
        '\xf0\xd2\xc9\xd7\xc5\xd4\r\nline two\r\n' +
        '--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=C3=A9</p>\r\n' +
        '--b\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        Buffer.alloc(3000, 7).toString('base64').replace(/.{76}/g, '$&\r\n') +
        '\r\n--b--\r\n',
      'latin1',
    );
    const opts = { attachmentEncoding: 'arraybuffer' as const };
    const expected = await PostalMime.parse(raw, opts);
    const real = globalThis.Blob;
    let got: Awaited<ReturnType<typeof PostalMime.parse>>;
    try {
      (globalThis as { Blob: unknown }).Blob = ConcatBlob;
      got = await PostalMime.parse(raw, opts);
    } finally {
      globalThis.Blob = real;
    }
    expect(got.subject).toBe('Привет');
    expect(got.text).toBe(expected.text);
    expect(got.text).toContain('Привет');
    expect(got.html).toBe(expected.html);
    expect(got.attachments).toHaveLength(1);
    expect(Buffer.from(got.attachments[0].content as ArrayBuffer).equals(Buffer.alloc(3000, 7))).toBe(true);

    // And the worker that installs it really parses: no death, no silent fallback to inline parsing.
    const pool = createParserPool(1) as ParserPool;
    try {
      const pooled = await pool.parse(raw);
      expect(pooled.subject).toBe('Привет');
      expect(pooled.text).toBe(expected.text);
      expect(pooled.attachments).toHaveLength(1);
      expect(Buffer.from(pooled.attachments[0].content).equals(Buffer.alloc(3000, 7))).toBe(true);
      expect(pool.stats()).toEqual({ workers: 1, recentRespawns: 0 });
    } finally {
      await pool.close();
    }
  });
});
