// How the site agent reaches a Host: its spec's address, port, user and pinned key, and its bastion's. Pure.
import type { Host } from '@outpost/proto';
import type { SshTarget } from './ssh/ssh-session.js';

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_SSH_USER = 'root';

export function sshTargetOf(h: Host): SshTarget {
  const s = h.spec ?? {};
  const b = s.bastion;
  return {
    host: h.metadata.name ?? '',
    address: s.address ?? '',
    port: s.sshPort || DEFAULT_SSH_PORT,
    user: s.sshUser || DEFAULT_SSH_USER,
    hostKey: s.hostKey ?? '',
    ...(b?.address ? { bastion: { address: b.address, port: b.port || DEFAULT_SSH_PORT, user: b.user || DEFAULT_SSH_USER, hostKey: b.hostKey ?? '' } } : {}),
  };
}
