import { describe, expect, it } from 'vitest';
import { imageSize, isAllowed, newBot } from './store.js';

describe('imageSize', () => {
  it('reads PNG, GIF and JPEG headers', () => {
    const png = Buffer.alloc(32);
    png.writeUInt32BE(0x89504e47, 0);
    png.writeUInt32BE(640, 16);
    png.writeUInt32BE(480, 20);
    expect(imageSize(png)).toEqual({ width: 640, height: 480 });
    const gif = Buffer.from('GIF89a\x20\x03\x58\x02', 'latin1');
    expect(imageSize(gif)).toEqual({ width: 800, height: 600 });
    // SOI, APP0 (length 4), SOF0 with height 300, width 400.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x01, 0x90, 0x03]);
    expect(imageSize(jpeg)).toEqual({ width: 400, height: 300 });
    expect(imageSize(Buffer.from('not an image'))).toEqual({ width: 1280, height: 960 });
  });
});

describe('allowed_updates', () => {
  it('defaults to everything except chat_member and reactions', () => {
    const bot = newBot('x_bot', 'X');
    expect(isAllowed(bot, 'message')).toBe(true);
    expect(isAllowed(bot, 'chat_member')).toBe(false);
    bot.allowedUpdates = ['chat_member'];
    expect(isAllowed(bot, 'message')).toBe(false);
    expect(isAllowed(bot, 'chat_member')).toBe(true);
  });
});
