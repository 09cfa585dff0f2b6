// `outpost delete KIND NAME` and `outpost delete -f FILE`: what the manifests name, dependents first.
import { isAgentFinalizer, type KindInfo, type KindName } from '@outpost/proto';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { readTargets } from './apply.js';
import { UsageError } from './usage.js';

/**
 * The order objects are made in: what a kind refers to comes before it (a Datacenter names its Site or
 * Seed, a Cluster its Project, Datacenter, SSH keys and Release; a Host its Site; an Agent and a Token
 * their Site or Seed). `delete -f` goes the other way, so nothing is deleted while something still
 * refers to it.
 */
const CREATION_ORDER: readonly KindName[] = ['Project', 'Release', 'Seed', 'Site', 'Datacenter', 'Host', 'SSHKey', 'Cluster', 'Agent', 'Token'];

export interface DeleteOptions {
  force: boolean;
  dryRun: boolean;
  /** A missing object is no error (kubectl's --ignore-not-found). */
  ignoreNotFound?: boolean;
}

/**
 * Deletes; an object with finalizers stays Terminating until they are released. `force` then removes
 * them (a live object would get its serving agent's finalizer straight back, so the delete comes first).
 */
export async function deleteResource(api: ApiClient, kind: KindInfo, name: string, namespace: string | undefined, o: DeleteOptions): Promise<number> {
  const label = `${kind.singular}/${name}`;
  if (o.force && o.dryRun) throw new UsageError('--force and --dry-run=server do not go together: a forced delete cannot be rehearsed by the hub');
  try {
    if (o.dryRun) {
      const would = await api.delete(kind, name, namespace, { dryRun: true });
      const held = would.metadata.deletionTimestamp && would.metadata.finalizers?.length;
      process.stdout.write(held ? `${label} would be Terminating, waiting for ${(would.metadata.finalizers ?? []).join(', ')} (server dry run)\n` : `${label} deleted (server dry run)\n`);
      return 0;
    }
    const marked = await api.delete(kind, name, namespace);
    const pending = marked.metadata.finalizers ?? [];
    if (!marked.metadata.deletionTimestamp || pending.length === 0) {
      process.stdout.write(`${label} deleted\n`);
      return 0;
    }
    if (!o.force) {
      const agents = pending.filter(isAgentFinalizer);
      const why = agents.length ? "its agent tears down what it made, then the hub deletes it; if the agent is offline it waits for it" : 'the hub deletes it once they are removed';
      process.stdout.write(`${label} is Terminating, waiting for ${pending.join(', ')}: ${why} (--force does not wait)\n`);
      return 0;
    }
    try {
      await api.patch(kind, name, { metadata: { finalizers: [] } }, namespace);
    } catch (err) {
      // Released meanwhile: the delete finished by itself.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    process.stderr.write(`warning: ${label} deleted without waiting for ${pending.join(', ')}: whatever its agent made for it is left in place, until that agent next connects and tears it down (for good if it never does)\n`);
    process.stdout.write(`${label} deleted (forced)\n`);
    return 0;
  } catch (err) {
    if (o.ignoreNotFound && err instanceof ApiError && err.status === 404 && err.reason === 'NotFound') return 0;
    throw err;
  }
}

/** Deletes every object the manifests of `file` name, dependents first; goes on past a failure and says which failed. */
export async function deleteFromFile(api: ApiClient, file: string, o: DeleteOptions): Promise<number> {
  const targets = readTargets(file)
    .map((t, i) => ({ t, i }))
    // Later in the file first within a kind, as a file lists what it makes in the order it makes it.
    .sort((a, b) => CREATION_ORDER.indexOf(b.t.kind.kind) - CREATION_ORDER.indexOf(a.t.kind.kind) || b.i - a.i)
    .map(({ t }) => t);
  let failed = 0;
  for (const t of targets) {
    try {
      await deleteResource(api, t.kind, t.obj.metadata.name ?? '', t.namespace, o);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      failed++;
      process.stderr.write(`error: ${t.label}: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}
