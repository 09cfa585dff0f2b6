// The seed's Kubernetes API as the hosted control plane needs it, behind a narrow interface so the
// reconciler's logic is testable; KubeSeedApi is the real one (@kubernetes/client-node, server-side apply
// with its own field manager), exercised against the test world's apiserver in test/e2e/seed-agent.test.ts.
import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { SeedUnreachableError } from './errors.js';
import { untilAborted } from '../engine/until-aborted.js';

/** Who the seed's managedFields name as owner of what the agent applied. */
export const FIELD_MANAGER = 'outpost-agent';

export interface SeedNamespace {
  labels: Record<string, string>;
  /** Active or Terminating. */
  phase: string;
}

export interface SeedApi {
  /** The apiserver's URL, for messages. */
  readonly server: string;
  getNamespace(name: string, signal: AbortSignal): Promise<SeedNamespace | undefined>;
  /** Server-side apply: the agent owns the labels it sets and nothing else. */
  applyNamespace(name: string, labels: Record<string, string>, signal: AbortSignal): Promise<void>;
  /** Starts deleting; a namespace already gone is fine. */
  deleteNamespace(name: string, signal: AbortSignal): Promise<void>;
  /**
   * Server-side apply of a control plane's object, forced: the agent is the one writer of the fields it
   * sets, so a hand edit of them is put back. Returns the object as the seed now holds it.
   */
  apply<T extends KubernetesObject>(obj: T, signal: AbortSignal): Promise<T>;
  /**
   * Merges `annotations` into an existing object's metadata (a JSON merge patch: unlike an apply it never
   * makes an object that is gone). False when there is none.
   */
  annotate(ref: SeedObjectRef, annotations: Record<string, string>, signal: AbortSignal): Promise<boolean>;
  /** The object, or undefined when there is none. `namespace` undefined for a cluster-scoped kind. */
  read<T extends KubernetesObject>(ref: SeedObjectRef, signal: AbortSignal): Promise<T | undefined>;
  list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, signal: AbortSignal, labelSelector?: string): Promise<T[]>;
}

export interface SeedObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}


export class KubeSeedApi implements SeedApi {
  readonly server: string;
  private readonly objects: KubernetesObjectApi;

  constructor(kc: KubeConfig) {
    this.server = kc.getCurrentCluster()?.server ?? '(no server)';
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  async getNamespace(name: string, signal: AbortSignal): Promise<SeedNamespace | undefined> {
    try {
      const ns = await this.call(this.objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), signal);
      return { labels: ns.metadata?.labels ?? {}, phase: (ns as { status?: { phase?: string } }).status?.phase ?? '' };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async applyNamespace(name: string, labels: Record<string, string>, signal: AbortSignal): Promise<void> {
    const spec: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
    // force: the agent is the one writer of these fields; a conflict means someone edited them by hand.
    await this.call(this.objects.patch(spec, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply), signal);
  }

  async deleteNamespace(name: string, signal: AbortSignal): Promise<void> {
    try {
      await this.call(this.objects.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), signal);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return;
      throw err;
    }
  }

  async apply<T extends KubernetesObject>(obj: T, signal: AbortSignal): Promise<T> {
    return this.call(this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply), signal);
  }

  async annotate(ref: SeedObjectRef, annotations: Record<string, string>, signal: AbortSignal): Promise<boolean> {
    const { name, namespace, ...rest } = ref;
    try {
      await this.call(this.objects.patch({ ...rest, metadata: { name, ...(namespace ? { namespace } : {}), annotations } }, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch), signal);
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw err;
    }
  }

  async read<T extends KubernetesObject>(ref: SeedObjectRef, signal: AbortSignal): Promise<T | undefined> {
    const { name, namespace, ...rest } = ref;
    try {
      return (await this.call(this.objects.read({ ...rest, metadata: { name, ...(namespace ? { namespace } : {}) } }), signal)) as T;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, signal: AbortSignal, labelSelector?: string): Promise<T[]> {
    const out = await this.call(this.objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector), signal);
    return out.items;
  }

  /** An HTTP answer (ApiException) comes back as is; no answer at all is SeedUnreachableError. */
  private async call<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      return await untilAborted(p, signal);
    } catch (err) {
      if (err instanceof ApiException || signal.aborted) throw err;
      throw new SeedUnreachableError(this.server, err);
    }
  }
}
