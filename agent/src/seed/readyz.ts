// Asks a hosted API server's /readyz through its endpoint, as a client outside the seed would, trusting
// only the cluster's CA. Anonymous: kube-apiserver lets anyone read /readyz (system:public-info-viewer).
import { request } from 'node:https';

/** The body of /readyz ("ok" when ready), or a rejection saying why there was no answer. */
export type ReadyzProbe = (endpoint: string, caPem: string, signal: AbortSignal) => Promise<{ status: number; body: string }>;

export const probeReadyz: ReadyzProbe = (endpoint, caPem, signal) =>
  new Promise((resolve, reject) => {
    const req = request(new URL('/readyz', endpoint), { ca: caPem, signal, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${endpoint}/readyz within 10 s`)));
    req.on('error', reject);
    req.end();
  });
