// The site agent's SSH executor against real sshd hosts in network namespaces: pinned host keys (unknown
// and changed keys refused before anything runs), commands and their exits, whole-or-nothing uploads,
// a bastion hop, and the failures a flow retries (unreachable, dropped) told apart from those it must not.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { site } from '@outpost/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, type TestHost, type TestHosts } from '../world/hosts.js';

const { SshSession, SshError, RemoteCommandFailed, shQuote } = site;

describe('the site agent SSH executor, on real sshd hosts', () => {
  let world: TestHosts;
  let h0: TestHost;
  let h1: TestHost;
  let scratch: string;
  const target = (h: TestHost, over: Partial<site.SshTarget> = {}): site.SshTarget => ({ host: h.name, address: h.address, port: h.port, user: h.user, hostKey: h.hostKeyFingerprint, ...over });
  const connect = (t: site.SshTarget, privateKey = h0.privateKey) => SshSession.connect(t, { privateKey, readyTimeoutMs: 5_000 });
  const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof SshError>);

  beforeAll(async () => {
    world = await startHosts(2);
    [h0, h1] = world.hosts as [TestHost, TestHost];
    scratch = mkdtempSync(join(tmpdir(), 'outpost-ssh-test-'));
  });
  afterAll(async () => {
    await world?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs commands on the pinned host and reports their exit, output and stdin', async () => {
    const s = await connect(target(h0));
    try {
      expect((await s.run('hostname')).trim()).toBe(h0.name);
      const r = await s.exec(`echo out; echo err >&2; exit 3`);
      expect(r).toEqual({ code: 3, signal: undefined, stdout: 'out\n', stderr: 'err\n' });
      const failed = await s.run('echo "no such unit" >&2; exit 5').catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(RemoteCommandFailed);
      expect((failed as Error).message).toBe(`on ${h0.name}: \`echo "no such unit" >&2; exit 5\` exited 5: no such unit`);
      expect(await s.run('tr a-z A-Z', { stdin: 'piped in' })).toBe('PIPED IN');
      // A hostile argument stays one argument.
      expect(await s.run(`printf %s ${shQuote(`it's; $(rm -rf /) "x"`)}`)).toBe(`it's; $(rm -rf /) "x"`);
    } finally {
      s.close();
    }
  });

  it('writes a file whole, with its mode, from bytes or a local file', async () => {
    const local = join(scratch, 'blob');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    writeFileSync(local, bytes);
    const s = await connect(target(h0));
    try {
      const remote = join(h0.dir, 'usr-local-bin', 'kubeadm');
      await s.writeFile(remote, { localPath: local }, 0o755);
      expect((await s.run(`sha256sum ${shQuote(remote)}`)).split(' ')[0]).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect((await s.run(`stat -c %a ${shQuote(remote)}`)).trim()).toBe('755');
      await s.writeFile(join(h0.dir, 'etc', 'config.yaml'), { bytes: 'kind: Test\n' }, 0o600);
      expect(await s.run(`cat ${shQuote(join(h0.dir, 'etc', 'config.yaml'))}; stat -c %a ${shQuote(join(h0.dir, 'etc', 'config.yaml'))}`)).toBe('kind: Test\n600\n');
      expect(await s.run(`ls -a ${shQuote(join(h0.dir, 'usr-local-bin'))}`)).not.toContain('outpost-tmp');
    } finally {
      s.close();
    }
  });

  it('refuses a host whose key is not the pinned one, or that pins none, naming the key it presented; nothing runs', async () => {
    const changed = await refusal(connect(target(h0, { hostKey: h1.hostKeyFingerprint })));
    expect(changed).toBeInstanceOf(SshError);
    expect(changed.failure).toBe('HostKeyChanged');
    expect(changed.retryable).toBe(false);
    expect(changed.presentedKey).toBe(h0.hostKeyFingerprint);
    expect(changed.message).toContain(`presented host key ${h0.hostKeyFingerprint}, not the pinned ${h1.hostKeyFingerprint}; nothing was run`);
    const unknown = await refusal(connect(target(h0, { hostKey: '' })));
    expect(unknown.failure).toBe('HostKeyUnknown');
    expect(unknown.message).toContain(`set spec.hostKey: ${h0.hostKeyFingerprint}`);
  });

  it('says which failures a retry may cure: a closed port and a dropped connection may, a refused key may not', async () => {
    const closed = await refusal(connect(target(h0, { port: 2 })));
    expect(closed.failure).toBe('Unreachable');
    expect(closed.retryable).toBe(true);
    expect(closed.message).toMatch(new RegExp(`cannot reach host ${h0.name} \\(${h0.address.replace(/\./g, '\\.')}:2\\): connect ECONNREFUSED`));

    const stranger = execFileSync('sh', ['-c', `ssh-keygen -q -t ed25519 -N '' -f ${scratch}/stranger && cat ${scratch}/stranger`], { encoding: 'utf8' });
    const denied = await refusal(connect(target(h0), stranger));
    expect(denied.failure).toBe('AuthFailed');
    expect(denied.retryable).toBe(false);
    expect(denied.message).toContain("refused the agent's SSH key for user root: add the line `outpost-agent ssh-key` prints");

    const s = await connect(target(h0));
    // The session's own sshd child goes mid-command, and the shell with it (a process left running would
    // hold the host's namespace after the test): the connection drops under the running command.
    const drop = await refusal(s.run('sleep 0.3; kill -9 $PPID $$'));
    expect(drop).toBeInstanceOf(SshError);
    expect(drop.failure).toBe('Dropped');
    expect(drop.retryable).toBe(true);
    expect(s.closed).toBe(true);
    expect((await refusal(s.run('true'))).failure).toBe('Dropped');
  });

  it('reaches a host through its bastion, both keys pinned', async () => {
    const t = target(h1, { bastion: { address: h0.address, port: h0.port, user: 'root', hostKey: h0.hostKeyFingerprint } });
    const s = await connect(t);
    try {
      // The host sees the bastion as its client.
      expect((await s.run('echo $SSH_CONNECTION')).split(' ')[0]).toBe(h0.address);
      expect((await s.run('hostname')).trim()).toBe(h1.name);
    } finally {
      s.close();
    }
    const badBastion = await refusal(connect(target(h1, { bastion: { address: h0.address, port: h0.port, user: 'root', hostKey: h1.hostKeyFingerprint } })));
    expect(badBastion.failure).toBe('HostKeyChanged');
    expect(badBastion.message).toContain(`the bastion ${h0.address}:22 of host ${h1.name}`);
    expect(badBastion.message).toContain('spec.bastion.hostKey');
  });
});
