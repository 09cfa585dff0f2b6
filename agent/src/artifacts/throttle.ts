// A bandwidth cap for downloads on a site's shared uplink: a Transform that lets bytes through at no more
// than `bytesPerSecond` on average (a token bucket one second deep).
import { Transform } from 'node:stream';

export function throttle(bytesPerSecond: number): Transform {
  const started = performance.now();
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      passed += chunk.length;
      const due = started + ((passed - bytesPerSecond) / bytesPerSecond) * 1000;
      const wait = due - performance.now();
      if (wait <= 0) return done(null, chunk);
      setTimeout(() => done(null, chunk), wait);
    },
  });
}
