// postal-mime gathers every MIME part's bytes into a Blob and reads them back with arrayBuffer().
// Node's Blob copies into native memory and answers through its own thread machinery: it was a
// quarter of the parse thread's time on bench/mail.ts. postal-mime uses nothing else of Blob (and
// only checks `instanceof Blob` on its input, which is always bytes here), so inside the parse
// worker — which runs nothing but postal-mime — this plain concatenation stands in for Blob.
// It is JavaScript source, not a TypeScript class, because the worker is evaluated from a string
// and compilers decorate classes (tsx adds __name helpers) in ways that do not survive toString().
export const CONCAT_BLOB_SOURCE = `class ConcatBlob {
  constructor(parts = [], options = {}) {
    const views = [];
    let size = 0;
    for (const p of parts) {
      const v = typeof p === 'string' ? ConcatBlob.encoder.encode(p)
        : p instanceof ArrayBuffer ? new Uint8Array(p)
        : ArrayBuffer.isView(p) ? new Uint8Array(p.buffer, p.byteOffset, p.byteLength)
        : ConcatBlob.encoder.encode(String(p));
      views.push(v);
      size += v.byteLength;
    }
    // A buffer of its own: the worker transfers attachment buffers back to the main thread.
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const v of views) { bytes.set(v, at); at += v.byteLength; }
    this.bytes = bytes;
    this.size = size;
    this.type = options.type || '';
  }
  arrayBuffer() { return Promise.resolve(this.bytes.buffer); }
}
ConcatBlob.encoder = new TextEncoder();`;

export interface ConcatBlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The same class in this thread (the benchmark's baseline and the tests use it). */
export function concatBlobClass(): new (parts?: unknown[], options?: { type?: string }) => ConcatBlobLike {
  return new Function(`${CONCAT_BLOB_SOURCE}\nreturn ConcatBlob;`)() as new (parts?: unknown[], options?: { type?: string }) => ConcatBlobLike;
}
