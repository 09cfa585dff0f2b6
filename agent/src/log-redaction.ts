// What the agent's logs never carry: its credential and the cluster CAs the hub delivers. No log call
// passes them (the cluster-keys integration test greps a real agent's log for the keys it received); this
// is the net under a future call that logs an answer or a ClusterKeys whole.
import type { LoggerOptions } from 'pino';

export const AGENT_LOG_REDACTION: NonNullable<LoggerOptions['redact']> = {
  paths: [
    'authorization', '*.authorization', 'credential', '*.credential',
    'keys', '*.keys', 'keyPem', '*.keyPem', '*.*.keyPem', 'privateKeyPem', '*.privateKeyPem', 'serviceAccountPrivateKeyPem', '*.serviceAccountPrivateKeyPem',
  ],
  censor: '[redacted]',
};
