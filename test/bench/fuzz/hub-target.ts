// The admin API's fuzzed requests sent to a real hub process over HTTPS: what the in-process target
// cannot see (the Node server's own parsing, a crash that takes the process down).
import { request } from 'node:https';
import { TestHub } from '../../lib/processes.js';
import { fuzzRequest, type FuzzRequest } from './requests.js';
import { count, Crash, HANG_MS, requestCrash, type Target } from './targets.js';

function send(hub: TestHub, req: FuzzRequest): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (req.auth === 'admin') headers.authorization = `Bearer ${hub.adminToken}`;
    else if (req.auth) headers.authorization = req.auth;
    if (req.contentType) headers['content-type'] = req.contentType;
    let r: ReturnType<typeof request>;
    try {
      r = request(new URL(req.url, hub.url), { method: req.method, ca: hub.caCertPem, headers, timeout: HANG_MS }, (res) => {
        const watching = res.statusCode === 200 && req.query.some(([k, v]) => k === 'watch' && (v === 'true' || v === '1'));
        if (watching) {
          res.destroy();
          resolve({ status: 200, body: '' });
          return;
        }
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
    } catch {
      resolve(undefined); // a request Node itself will not send (an invalid header value)
      return;
    }
    r.on('timeout', () => r.destroy(new Crash(`hang: ${req.method} ${req.url} took over ${HANG_MS} ms`, 'hang')));
    r.on('error', reject);
    r.end(req.body);
  });
}

export async function hubTarget(): Promise<Target<FuzzRequest>> {
  const hub = await TestHub.start();
  const statuses = new Map<number, number>();
  return {
    name: 'hub-process',
    statuses,
    arbitrary: fuzzRequest(),
    async check(req) {
      const answer = await send(hub, req).catch((err: unknown) => {
        if (!hub.proc?.alive) throw new Crash(`the hub process died at ${req.method} ${req.url}: ${hub.proc?.stderr.slice(-500)}`, 'the hub process died');
        throw err;
      });
      if (!answer) return;
      count(statuses, answer.status);
      const crash = requestCrash(req, answer.status, answer.body);
      if (crash) throw crash;
    },
    close: () => hub.stop(),
  };
}
