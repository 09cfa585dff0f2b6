// Every Host of the site, checked from the site's agent: its SSH host key against the pin (an unknown or
// changed key stops the host, saying which key it presented, and nothing is run there), whether the agent
// gets in, and what the host is (host-probe.ts). Reported as the Host's conditions; looked at again
// periodically, so a reinstalled host or a drifted clock shows without anyone asking.
import type { Condition, Host, ResourceObject } from '@outpost/proto';
import type { ReconcileContext, ReconcileOutcome, Reconciler, StatusPatch } from '../reconcile/reconciler.js';
import { describeFacts, parseProbe, preflightProblems, PROBE_SCRIPT } from './host-probe.js';
import { sshTargetOf } from './host-target.js';
import { SshError } from './ssh/ssh-errors.js';
import { SshSession, type ConnectOptions } from './ssh/ssh-session.js';

export interface HostReconcilerOptions {
  /** The agent's OpenSSH private key (DIR/ssh/id_ed25519). */
  privateKey: string;
  /** How often a reachable host is probed again. Default 5 minutes. */
  probeIntervalMs?: number;
  /** How soon an unreachable host is tried again. Default 30 s. */
  unreachableRetryMs?: number;
  /** TCP connect plus SSH handshake. Default 15 s. */
  connectTimeoutMs?: number;
}

export const HOST_CONDITIONS = { hostKey: 'HostKeyVerified', reachable: 'Reachable', preflight: 'PreflightPassed' } as const;

const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, observedGeneration: number): Condition => ({ type, status, reason, message, observedGeneration });

export class HostReconciler implements Reconciler {
  readonly name = 'site-hosts';
  readonly kind = 'Host';

  constructor(private readonly o: HostReconcilerOptions) {}

  owns(): boolean {
    return true;
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const host = obj as Host;
    const generation = host.metadata.generation ?? 0;
    const target = sshTargetOf(host);
    const status = (conditions: Condition[]): StatusPatch => ({ observedGeneration: generation, conditions });
    const connect: ConnectOptions = { privateKey: this.o.privateKey, readyTimeoutMs: this.o.connectTimeoutMs ?? 15_000, signal: ctx.signal };
    let session: SshSession;
    try {
      session = await SshSession.connect(target, connect);
    } catch (err) {
      if (!(err instanceof SshError)) throw err;
      ctx.log.warn({ host: target.host, failure: err.failure }, err.message);
      return this.refused(err, generation);
    }
    try {
      const sent = Date.now();
      const output = await session.run(PROBE_SCRIPT, { signal: ctx.signal, timeoutMs: 30_000 });
      const facts = parseProbe(output, sent, Date.now());
      const problems = preflightProblems(facts);
      const via = target.bastion ? ` through the bastion ${target.bastion.address}` : '';
      return {
        status: status([
          cond(HOST_CONDITIONS.hostKey, 'True', 'Pinned', `presented the pinned key ${target.hostKey}${target.bastion ? ', and so did its bastion' : ''}`, generation),
          cond(HOST_CONDITIONS.reachable, 'True', 'SSH', `${target.user}@${target.address}:${target.port}${via} answered`, generation),
          problems.length
            ? cond(HOST_CONDITIONS.preflight, 'False', 'PreflightFailed', `${describeFacts(facts)}; cannot be provisioned: ${problems.join('; ')}`, generation)
            : cond(HOST_CONDITIONS.preflight, 'True', 'Probed', describeFacts(facts), generation),
        ]),
        requeueAfterMs: this.o.probeIntervalMs ?? 5 * 60_000,
      };
    } catch (err) {
      if (!(err instanceof SshError)) throw err;
      return this.refused(err, generation);
    } finally {
      session.close();
    }
  }

  /** The conditions for an attempt that did not get to run the probe, and when to try again. */
  private refused(err: SshError, generation: number): ReconcileOutcome {
    const key = err.failure === 'HostKeyUnknown' || err.failure === 'HostKeyChanged';
    const conditions = key
      ? [
          cond(HOST_CONDITIONS.hostKey, 'False', err.failure, err.message, generation),
          // Unknown, not False: past a key it does not trust, the agent does not try to log in.
          cond(HOST_CONDITIONS.reachable, 'Unknown', 'HostKeyNotVerified', 'not tried: the host key is not the pinned one', generation),
          cond(HOST_CONDITIONS.preflight, 'Unknown', 'HostKeyNotVerified', 'not probed: nothing runs on a host whose key is not verified', generation),
        ]
      : [
          ...(err.failure === 'AuthFailed' ? [cond(HOST_CONDITIONS.hostKey, 'True', 'Pinned', 'presented the pinned key', generation)] : []),
          cond(HOST_CONDITIONS.reachable, 'False', err.failure, err.message, generation),
          cond(HOST_CONDITIONS.preflight, 'Unknown', 'Unreachable', 'not probed: the agent could not log in', generation),
        ];
    // A network failure is tried again soon. A key that is not the pinned one, or the agent's key refused,
    // needs someone to act: a change of the Host requeues it at once, a fix on the host itself shows at the
    // next periodic look.
    return { status: { observedGeneration: generation, conditions }, requeueAfterMs: err.retryable ? (this.o.unreachableRetryMs ?? 30_000) : (this.o.probeIntervalMs ?? 5 * 60_000) };
  }
}
