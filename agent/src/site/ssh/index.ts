export { ensureAgentSshKey, loadAgentSshKey, SshKeyMissing, type AgentSshKey } from './agent-ssh-key.js';
export { shJoin, shQuote } from './shell-quote.js';
export { RemoteCommandFailed, SshError, type SshFailure } from './ssh-errors.js';
export { fingerprintOf, SshSession, type CommandResult, type ConnectOptions, type RunOptions, type SshEndpoint, type SshTarget } from './ssh-session.js';
