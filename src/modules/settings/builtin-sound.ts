// The built-in "new chat" sound: two short sine tones rendered as a WAV at start, so the
// product ships no binary asset and the console always has something to play.
let cached: Buffer | null = null;

export function builtinNotificationSound(): Buffer {
  if (cached) return cached;
  const rate = 22050;
  const tones = [
    { freq: 880, ms: 120 },
    { freq: 0, ms: 40 },
    { freq: 1320, ms: 160 },
  ];
  const samples: number[] = [];
  for (const t of tones) {
    const n = Math.floor((rate * t.ms) / 1000);
    for (let i = 0; i < n; i++) {
      const fade = Math.min(1, i / 200, (n - i) / 400); // avoid clicks at the edges
      samples.push(t.freq ? Math.sin((2 * Math.PI * t.freq * i) / rate) * 0.4 * fade : 0);
    }
  }
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(Math.round(s * 32767), i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  cached = Buffer.concat([header, data]);
  return cached;
}
