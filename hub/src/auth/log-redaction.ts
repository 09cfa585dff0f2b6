// What the hub's logs never carry: bearer tokens, token secrets, agent credentials. No log call passes
// them today (the hostile-api integration test greps a real hub's log for every secret it handed out);
// this is the net under a future call that logs a request's headers or a join's body whole.
import type { LoggerOptions } from 'pino';

export const LOG_REDACTION: NonNullable<LoggerOptions['redact']> = {
  paths: [
    'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', '*.*.headers.authorization',
    'token', '*.token', 'credential', '*.credential', 'secret', '*.secret',
    // A cluster's CAs as delivered to its agent (ClusterKeys, the wire's ClusterKeysPem).
    'keys', '*.keys', 'keyPem', '*.keyPem', '*.*.keyPem', 'privateKeyPem', '*.privateKeyPem', 'serviceAccountPrivateKeyPem', '*.serviceAccountPrivateKeyPem',
  ],
  censor: '[redacted]',
};
