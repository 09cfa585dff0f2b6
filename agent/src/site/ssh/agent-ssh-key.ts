// The agent's own SSH identity (ed25519), made once at join in DIR/ssh and never sent anywhere: only its
// public line travels (in Hello, into the Agent's status), for the site's hosts to authorize.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export interface AgentSshKey {
  /** OpenSSH private key (PEM "OPENSSH PRIVATE KEY"), for ssh2's `privateKey`. */
  privateKey: string;
  /** One authorized_keys line: "ssh-ed25519 AAAA... outpost-agent@<agentId>". */
  publicKey: string;
}

export const sshKeyDir = (dataDir: string): string => join(dataDir, 'ssh');
const privatePath = (dataDir: string): string => join(sshKeyDir(dataDir), 'id_ed25519');
const publicPath = (dataDir: string): string => join(sshKeyDir(dataDir), 'id_ed25519.pub');

export class SshKeyMissing extends Error {
  override readonly name = 'SshKeyMissing';
}

/** Makes DIR/ssh/id_ed25519 (0600) and its .pub unless they exist; returns the key either way. */
export function ensureAgentSshKey(dataDir: string, agentId: string): AgentSshKey {
  if (existsSync(privatePath(dataDir))) return loadAgentSshKey(dataDir);
  mkdirSync(sshKeyDir(dataDir), { recursive: true, mode: 0o700 });
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: `outpost-agent@${agentId}` });
  const publicKey = pair.public.trim();
  // Each written whole (a temporary file renamed), the private one readable by the agent's user alone.
  writeFileSync(`${publicPath(dataDir)}.tmp`, `${publicKey}\n`, { mode: 0o644 });
  renameSync(`${publicPath(dataDir)}.tmp`, publicPath(dataDir));
  writeFileSync(`${privatePath(dataDir)}.tmp`, pair.private, { mode: 0o600 });
  chmodSync(`${privatePath(dataDir)}.tmp`, 0o600);
  renameSync(`${privatePath(dataDir)}.tmp`, privatePath(dataDir));
  return { privateKey: pair.private, publicKey };
}

/** The key `ensureAgentSshKey` made; a clear error for a data directory from before agents had one. */
export function loadAgentSshKey(dataDir: string): AgentSshKey {
  if (!existsSync(privatePath(dataDir))) {
    throw new SshKeyMissing(`${dataDir} holds no agent SSH key (${privatePath(dataDir)}); it is made by \`outpost-agent join\`, or by \`outpost-agent ssh-key --data ${dataDir}\` for an agent that joined before`);
  }
  const privateKey = readFileSync(privatePath(dataDir), 'utf8');
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new SshKeyMissing(`${privatePath(dataDir)} is not an SSH private key (${parsed.message}); move it away and run \`outpost-agent ssh-key --data ${dataDir}\` to make a new one`);
  const publicKey = existsSync(publicPath(dataDir)) ? readFileSync(publicPath(dataDir), 'utf8').trim() : `${parsed.type} ${parsed.getPublicSSH().toString('base64')} ${parsed.comment}`.trim();
  return { privateKey, publicKey };
}
