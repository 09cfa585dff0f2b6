import { describe, expect, it } from 'vitest';
import { REPLACEMENT_WINDOW_MS, replacedReason, ReplacementLog } from './replacements.js';

describe('ReplacementLog', () => {
  it('logs each replacement with both addresses, and says what a repeated one means', () => {
    let now = 0;
    const lines: Array<{ o: Record<string, unknown>; m: string }> = [];
    const log = { warn: (o: object, m: string) => lines.push({ o: o as Record<string, unknown>, m }) };
    const r = new ReplacementLog(() => now);
    expect(r.replaced(log, 'a1', '127.0.0.1:1000', '127.0.0.1:2000')).toBe(1);
    expect(lines[0]?.o).toMatchObject({ agent: 'a1', replaced: '127.0.0.1:1000', by: '127.0.0.1:2000' });
    expect(lines[0]?.m).toMatch(/connected again/);
    now += 1000;
    expect(r.replaced(log, 'a1', '127.0.0.1:2000', '127.0.0.1:3000')).toBe(2);
    expect(lines[1]?.m).toMatch(/two agent processes .* one identity/);
    // Another agent counts apart; a quiet window starts over.
    expect(r.replaced(log, 'a2', 'x', 'y')).toBe(1);
    now += REPLACEMENT_WINDOW_MS + 1;
    expect(r.replaced(log, 'a1', 'x', 'y')).toBe(1);
  });

  it('keeps the close reason within the 123 bytes WebSocket allows', () => {
    expect(replacedReason('127.0.0.1:5000')).toBe('replaced by a newer connection of this agent from 127.0.0.1:5000');
    const long = replacedReason(`[${'ffff:'.repeat(20)}1]:65535`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
  });
});
