// An in-memory seed for the reconciler's unit tests: namespaces, applied objects kept by kind and name,
// Services given addresses and workloads made ready at once (or stuck on an image), as a seed's
// controllers would. The real apiserver is test/e2e's.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SeedUnreachableError } from './errors.js';
import type { SeedApi, SeedNamespace, SeedObjectRef } from './seed-api.js';

type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; data?: Record<string, string> };

const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string): string => `${apiVersion}/${kind}/${namespace ?? ''}/${name}`;

export class MemorySeed implements SeedApi {
  readonly server = 'https://seed.test:6443';
  readonly namespaces = new Map<string, SeedNamespace>();
  readonly objects = new Map<string, Obj>();
  /** Every apply, in order, as "Kind/name". */
  readonly applied: string[] = [];
  /** Gets a deleted namespace answers before it is gone (the namespace controller's work). */
  terminatingGets = 0;
  down = false;
  /** Accepts connections and never answers: calls end only when their signal fires. */
  wedged = false;
  /** Images the node lacks: pods of a workload naming one are stuck in ErrImageNeverPull. */
  readonly missingImages = new Set<string>();
  defaultStorageClass: string | undefined;
  private nextIp = 10;

  private async check(signal: AbortSignal): Promise<void> {
    if (this.down) throw new SeedUnreachableError(this.server, new Error('connect ECONNREFUSED'));
    if (this.wedged) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
  }

  async getNamespace(name: string, signal: AbortSignal): Promise<SeedNamespace | undefined> {
    await this.check(signal);
    const ns = this.namespaces.get(name);
    if (ns?.phase === 'Terminating' && this.terminatingGets-- <= 0) {
      this.namespaces.delete(name);
      for (const k of [...this.objects.keys()]) if (this.objects.get(k)?.metadata?.namespace === name) this.objects.delete(k);
    }
    return this.namespaces.get(name);
  }

  async applyNamespace(name: string, labels: Record<string, string>, signal: AbortSignal): Promise<void> {
    await this.check(signal);
    this.namespaces.set(name, { labels: { ...this.namespaces.get(name)?.labels, ...labels }, phase: 'Active' });
  }

  async deleteNamespace(name: string, signal: AbortSignal): Promise<void> {
    await this.check(signal);
    const ns = this.namespaces.get(name);
    if (ns) ns.phase = 'Terminating';
  }

  async apply<T extends KubernetesObject>(obj: T, signal: AbortSignal): Promise<T> {
    await this.check(signal);
    const k = keyOf(obj.apiVersion ?? '', obj.kind ?? '', obj.metadata?.namespace, obj.metadata?.name ?? '');
    const was = this.objects.get(k);
    const next = structuredClone(obj) as Obj;
    const changed = JSON.stringify(was?.spec) !== JSON.stringify(next.spec);
    next.metadata = { ...next.metadata, generation: (was?.metadata?.generation ?? 0) + (changed || !was ? 1 : 0) };
    if (next.kind === 'Service') {
      const spec = next.spec as { clusterIP?: string; type?: string; ports?: { nodePort?: number }[] };
      spec.clusterIP ??= ((was?.spec as { clusterIP?: string } | undefined)?.clusterIP ?? `10.0.0.${this.nextIp++}`);
      if (spec.type === 'NodePort') for (const p of spec.ports ?? []) p.nodePort = 30443;
    }
    this.objects.set(k, next);
    this.settle(next);
    this.applied.push(`${obj.kind}/${obj.metadata?.name}`);
    return structuredClone(next) as unknown as T;
  }

  /** What a seed's controllers do to a workload: ready at once, unless its image is missing. */
  private settle(obj: Obj): void {
    if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet') return;
    const spec = obj.spec as { replicas?: number; template: { spec: { containers: { name: string; image: string }[] } } };
    const image = spec.template.spec.containers[0]!.image;
    const stuck = this.missingImages.has(image);
    const replicas = spec.replicas ?? 1;
    const ready = stuck ? 0 : replicas;
    obj.status = { observedGeneration: obj.metadata?.generation, replicas, readyReplicas: ready, availableReplicas: ready, updatedReplicas: replicas, currentRevision: 'r', updateRevision: 'r' };
    const component = obj.metadata?.labels?.['outpost.dev/component'] ?? '';
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${obj.metadata?.name}-0`, namespace: obj.metadata?.namespace, labels: { 'outpost.dev/component': component } },
      spec: { nodeName: 'node-1', containers: spec.template.spec.containers },
      status: { containerStatuses: [{ name: spec.template.spec.containers[0]!.name, image, state: stuck ? { waiting: { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` } } : { running: {} } }] },
    };
    this.objects.set(keyOf('v1', 'Pod', obj.metadata?.namespace, pod.metadata!.name!), pod);
  }

  async annotate(ref: SeedObjectRef, annotations: Record<string, string>, signal: AbortSignal): Promise<boolean> {
    await this.check(signal);
    const o = this.objects.get(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name));
    if (!o) return false;
    o.metadata = { ...o.metadata, annotations: { ...o.metadata?.annotations, ...annotations } };
    return true;
  }

  async read<T extends KubernetesObject>(ref: SeedObjectRef, signal: AbortSignal): Promise<T | undefined> {
    await this.check(signal);
    const o = this.objects.get(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name));
    return o ? (structuredClone(o) as unknown as T) : undefined;
  }

  async list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, signal: AbortSignal, labelSelector?: string): Promise<T[]> {
    await this.check(signal);
    if (kind === 'Node') return [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '192.0.2.7' }] } }] as unknown as T[];
    if (kind === 'StorageClass') return (this.defaultStorageClass ? [{ apiVersion, kind, metadata: { name: this.defaultStorageClass, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } }] : []) as unknown as T[];
    const [lk, lv] = (labelSelector ?? '').split('=');
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata?.namespace === namespace && (!lk || o.metadata?.labels?.[lk] === lv))
      .map((o) => structuredClone(o) as unknown as T);
  }

  /** The object of `kind` and `name` in any namespace. */
  find(kind: string, name: string): Obj | undefined {
    return [...this.objects.values()].find((o) => o.kind === kind && o.metadata?.name === name);
  }

  /** A Secret's data, decoded. */
  secret(name: string): Record<string, string> | undefined {
    const s = this.find('Secret', name);
    return s?.data ? Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) : undefined;
  }
}
