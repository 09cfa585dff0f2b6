// One reconcile of a hosted control plane: the flow's steps (Gardener's order: namespace, services, PKI,
// etcd, kube-apiserver, then controller-manager and scheduler side by side) and what they learn on the way.
// Every step is idempotent and reads what it needs from the seed, so a run resumed after kill -9 (earlier
// steps skipped by the journal) finds what they made; each re-applies its objects with force, so a run
// also puts back what was changed by hand.
import type { KubernetesObject, V1Deployment, V1Pod, V1Secret, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { hostedJoinSecrets, type ClusterKeys, type Condition, type ResourceObject } from '@outpost/proto';
import { sleep, systemClock, type FlowStep } from '../engine/index.js';
import type { ReconcileContext } from '../reconcile/reconciler.js';
import { deploymentRollout, foreignSpecManagers, imageProblem, podsReplaced, statefulSetRollout, type Rollout } from './component-health.js';
import type { ControlPlaneInputs, SeedComponent } from './control-plane-inputs.js';
import type { Drift } from './drift.js';
import { ClusterKeysMissingError, ImageMissingError, NamespaceTakenError } from './errors.js';
import { APISERVER_SECRET, buildLeafPki, CONTROLLER_MANAGER_SECRET, ETCD_SECRET, PKI_SECRETS, rollHash, SCHEDULER_SECRET, secretHash } from './leaf-pki.js';
import { apiServerDeployment, APISERVER_DEPLOYMENT } from './manifests/apiserver.js';
import { CERTS_CONTENT_ANNOTATION, COMPONENT_LABEL, type ManifestContext } from './manifests/common.js';
import { CONTROLLER_MANAGER_DEPLOYMENT, controllerManagerDeployment, SCHEDULER_DEPLOYMENT, schedulerDeployment } from './manifests/controllers.js';
import { etcdDisruptionBudget, etcdStatefulSet } from './manifests/etcd.js';
import { hostedClusterApi } from './hosted-api.js';
import { joinableObjects } from './manifests/joinable.js';
import { pkiSecret } from './manifests/secret.js';
import { apiServerService, APISERVER_SERVICE, ETCD_CLIENT_PORT, ETCD_CLIENT_SERVICE, ETCD_STATEFULSET, etcdServices, memberService } from './manifests/services.js';
import { CLUSTER_LABEL, PROJECT_LABEL } from './namespace-name.js';
import { pkiAddresses, type AllocatedAddresses } from './pki-addresses.js';
import type { ReadyzProbe } from './readyz.js';
import { FIELD_MANAGER, type SeedApi } from './seed-api.js';

export interface ControlPlaneRunOptions {
  api: SeedApi;
  /** Timeout of each attempt of a step that only talks to the seed. */
  stepTimeoutMs: number;
  /** How long a step waits for its component to become ready before the attempt fails. */
  readyTimeoutMs: number;
  pollMs: number;
  leafLifetimeMs: number;
  probe: ReadyzProbe;
}

/** What the run tracks, in the seed's terms, for one status at its end. */
interface Learned {
  endpoint?: string;
  renewAt?: Date;
}

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

const belongsTo = (labels: Readonly<Record<string, string>>, ours: Readonly<Record<string, string>>): boolean =>
  labels[PROJECT_LABEL] === ours[PROJECT_LABEL] && labels[CLUSTER_LABEL] === ours[CLUSTER_LABEL];

const decode = (s: V1Secret | undefined): Record<string, string> | undefined =>
  s?.data ? Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : undefined;

export class ControlPlaneRun {
  readonly learned: Learned = {};
  /** Conditions as this run found them, by type; reported as they change. */
  private readonly conditions = new Map<string, Condition>();
  private addresses: Promise<{ allocated: AllocatedAddresses; endpoint: string }> | undefined;
  /** The PKI Secrets' data, from this run's pki step or, when it was skipped on a resume, from the seed. */
  private pkiData: Promise<Record<string, Record<string, string>>> | undefined;
  private readonly m: ManifestContext;
  private readonly generation: number;
  taken: NamespaceTakenError | undefined;
  /** The steps whose last attempt failed in this run. */
  readonly failed = new Set<string>();
  /** The pki step found no CAs: the run waits for the hub, it is not broken. */
  keysMissing = false;

  constructor(
    private readonly o: ControlPlaneRunOptions,
    private readonly obj: ResourceObject,
    private readonly inputs: ControlPlaneInputs,
    private readonly ns: { name: string; labels: Record<string, string> },
    private readonly ctx: ReconcileContext,
    private readonly track: <T>(call: Promise<T>, signal: AbortSignal) => Promise<T>,
    /** SeedReachable as the run's calls found it so far. */
    private readonly reachable: () => Condition | undefined,
    /** What the watch saw changed by another hand since a run last put it back. */
    private readonly drift: readonly Drift[] = [],
  ) {
    this.m = { namespace: ns.name, labels: ns.labels };
    this.generation = obj.metadata.generation ?? 0;
  }

  /** The conditions this run set, for the final status. */
  conditionList(): Condition[] {
    return [...this.conditions.values()];
  }

  private setCondition(type: string, ok: boolean, reason: string, message: string): void {
    const c: Condition = { type, status: ok ? 'True' : 'False', reason, message, observedGeneration: this.generation };
    const was = this.conditions.get(type);
    this.conditions.set(type, c);
    if (!was || was.status !== c.status || was.reason !== c.reason || was.message !== c.message) this.ctx.report({ conditions: [c] });
  }

  steps(): FlowStep[] {
    const noted = (name: string, run: (signal: AbortSignal) => Promise<void>) => async (signal: AbortSignal): Promise<void> => {
      try {
        await run(signal);
        this.failed.delete(name);
      } catch (err) {
        this.failed.add(name);
        throw err;
      }
    };
    const seedStep = (name: string, dependsOn: string[], run: (signal: AbortSignal) => Promise<void>): FlowStep => ({ name, dependsOn, timeoutMs: this.o.stepTimeoutMs, run: noted(name, run) });
    const waitStep = (name: string, dependsOn: string[], run: (signal: AbortSignal) => Promise<void>): FlowStep => ({ name, dependsOn, timeoutMs: this.o.readyTimeoutMs, run: noted(name, run) });
    return [
      seedStep('namespace', [], (s) => this.namespace(s)),
      seedStep('services', ['namespace'], (s) => this.services(s)),
      seedStep('pki', ['services'], (s) => this.pki(s)),
      waitStep('etcd', ['pki'], (s) => this.etcd(s)),
      waitStep('kube-apiserver', ['etcd'], (s) => this.apiServer(s)),
      waitStep('kube-controller-manager', ['kube-apiserver'], (s) => this.controllerManager(s)),
      waitStep('kube-scheduler', ['kube-apiserver'], (s) => this.scheduler(s)),
      // Static workers: what kubeadm join needs from the cluster, once its API server answers.
      ...(this.inputs.workers ? [seedStep('workers-joinable', ['kube-apiserver'], (s) => this.joinable(s))] : []),
    ];
  }

  private apply<T extends KubernetesObject>(obj: T, signal: AbortSignal): Promise<T> {
    return this.track(this.o.api.apply(obj, signal), signal);
  }

  private read<T extends KubernetesObject>(apiVersion: string, kind: string, name: string, signal: AbortSignal): Promise<T | undefined> {
    return this.track(this.o.api.read<T>({ apiVersion, kind, namespace: this.ns.name, name }, signal), signal);
  }

  private async namespace(signal: AbortSignal): Promise<void> {
    const existing = await this.track(this.o.api.getNamespace(this.ns.name, signal), signal);
    if (existing && !belongsTo(existing.labels, this.ns.labels)) throw (this.taken = new NamespaceTakenError(this.ns.name, existing.labels));
    // Applying to a Terminating namespace succeeds and is lost a moment later: wait for it to go first.
    if (existing?.phase === 'Terminating') throw new Error(`namespace ${this.ns.name} on the seed is still being deleted (an earlier cluster of this name); it is created again once it is gone`);
    await this.track(this.o.api.applyNamespace(this.ns.name, this.ns.labels, signal), signal);
    // With SeedReachable in the same report: a reader that sees the namespace ready sees the seed answered.
    const reachable = this.reachable();
    if (reachable) this.ctx.report({ conditions: [reachable] });
    this.setCondition('NamespaceReady', true, 'Applied', `namespace ${this.ns.name} on the seed`);
  }

  private async services(signal: AbortSignal): Promise<void> {
    for (const svc of [apiServerService(this.m, this.inputs.endpointServiceType), ...etcdServices(this.m, this.inputs.replicas)]) await this.apply(svc, signal);
    const { endpoint } = await this.allocated(signal);
    this.learned.endpoint = endpoint;
  }

  /**
   * The addresses the seed gave the Services, and the endpoint clients use: a node's address and the
   * NodePort, or the load balancer's address. Waits (within the step's timeout) for a load balancer.
   */
  private allocated(signal: AbortSignal): Promise<{ allocated: AllocatedAddresses; endpoint: string }> {
    this.addresses ??= (async () => {
      const svc = (name: string) => this.read<V1Service>('v1', 'Service', name, signal);
      const clusterIp = async (name: string): Promise<string> => {
        const ip = (await svc(name))?.spec?.clusterIP;
        if (!ip) throw new Error(`Service ${name} in ${this.ns.name} has no ClusterIP yet; the services step makes it`);
        return ip;
      };
      let endpointHost: string;
      let endpoint: string;
      for (;;) {
        const api = await svc(APISERVER_SERVICE);
        if (this.inputs.endpointServiceType === 'LoadBalancer') {
          const ingress = api?.status?.loadBalancer?.ingress?.[0];
          const host = ingress?.ip || ingress?.hostname;
          if (host) {
            endpointHost = host;
            endpoint = `https://${host}:443`;
            break;
          }
          this.setCondition('APIServerReady', false, 'WaitingForLoadBalancer', `the seed has not given Service ${APISERVER_SERVICE} in ${this.ns.name} a load balancer address yet; check the seed's load balancer, or set the Seed's spec.endpointServiceType to NodePort`);
        } else {
          const nodePort = api?.spec?.ports?.[0]?.nodePort;
          const host = await this.nodeAddress(signal);
          if (nodePort && host) {
            endpointHost = host;
            endpoint = `https://${host}:${nodePort}`;
            break;
          }
          if (!host) this.setCondition('APIServerReady', false, 'NoNode', 'the seed has no Ready node with an InternalIP to reach the NodePort on; add a node to the seed');
        }
        await sleep(systemClock, this.o.pollMs, signal);
      }
      const allocated: AllocatedAddresses = {
        namespace: this.ns.name,
        apiServerClusterIp: await clusterIp(APISERVER_SERVICE),
        endpointHost,
        etcdClientIp: await clusterIp(ETCD_CLIENT_SERVICE),
        etcdMemberIps: await Promise.all(Array.from({ length: this.inputs.replicas }, (_, i) => clusterIp(memberService(i)))),
        serviceCidr: this.inputs.serviceCidr,
      };
      return { allocated, endpoint };
    })();
    // A failed attempt is tried afresh, not remembered.
    this.addresses.catch(() => (this.addresses = undefined));
    return this.addresses;
  }

  /** The InternalIP of the first Ready node by name: any node answers on a NodePort. */
  private async nodeAddress(signal: AbortSignal): Promise<string | undefined> {
    const nodes = await this.track(this.o.api.list<KubernetesObject & { status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] } }>('v1', 'Node', undefined, signal), signal);
    const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    return ready.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).find((a) => a);
  }

  private keys(): ClusterKeys {
    const keys = this.ctx.secrets.clusterKeys(this.obj.metadata.uid ?? '');
    if (!keys) {
      this.keysMissing = true;
      const err = new ClusterKeysMissingError(`${this.obj.metadata.namespace}/${this.obj.metadata.name}`);
      this.setCondition('PKIReady', false, 'CAsNotDelivered', err.message);
      throw err;
    }
    return keys;
  }

  private async pki(signal: AbortSignal): Promise<void> {
    const keys = this.keys();
    const { allocated } = await this.allocated(signal);
    const existing: Record<string, Record<string, string> | undefined> = {};
    for (const name of PKI_SECRETS) existing[name] = decode(await this.read<V1Secret>('v1', 'Secret', name, signal));
    const out = await buildLeafPki({ keys, addresses: pkiAddresses(allocated), lifetimeMs: this.o.leafLifetimeMs, now: new Date(), existing });
    for (const [name, data] of Object.entries(out.secrets)) await this.apply(pkiSecret(this.m, name, data), signal);
    this.pkiData = Promise.resolve(out.secrets);
    this.learned.renewAt = out.renewAt;
    if (out.signed) this.ctx.log.info({ namespace: this.ns.name, signed: out.signed, renewAt: out.renewAt.toISOString() }, 'signed leaf certificates');
    const healed = this.healedNote('pki');
    this.setCondition('PKIReady', true, healed ? 'Healed' : out.signed ? 'Signed' : 'Current', `leaf certificates in Secrets ${PKI_SECRETS.join(', ')}, signed by the cluster's CAs; next renewal ${out.renewAt.toISOString()}${healed}`);
  }

  private secretData(secret: string, signal: AbortSignal): Promise<Record<string, string>> {
    this.pkiData ??= (async () => {
      const out: Record<string, Record<string, string>> = {};
      for (const name of PKI_SECRETS) {
        const data = decode(await this.read<V1Secret>('v1', 'Secret', name, signal));
        if (!data) throw new Error(`Secret ${name} in ${this.ns.name} is missing; the pki step makes it again on the next run`);
        out[name] = data;
      }
      return out;
    })();
    this.pkiData.catch(() => (this.pkiData = undefined));
    return this.pkiData.then((d) => d[secret] ?? {});
  }

  /** The hash of a PKI Secret for its component's pod template (leaves it reloads left out: leaf-pki.ts). */
  private async certsHash(secret: string, signal: AbortSignal): Promise<string> {
    return rollHash(secret, await this.secretData(secret, signal));
  }

  private async etcd(signal: AbortSignal): Promise<void> {
    const { allocated } = await this.allocated(signal);
    const existing = await this.read<V1StatefulSet>('apps/v1', 'StatefulSet', ETCD_STATEFULSET, signal);
    // volumeClaimTemplates cannot change once made: a StatefulSet keeps the storage it was made with.
    const storageClass = existing ? undefined : await this.defaultStorageClass(signal);
    const persistent = existing ? (existing.spec?.volumeClaimTemplates?.length ?? 0) > 0 : storageClass !== undefined;
    await this.apply(etcdDisruptionBudget(this.m), signal);
    const foreign = foreignSpecManagers(existing, FIELD_MANAGER);
    await this.apply(etcdStatefulSet(this.m, { image: this.inputs.images.etcd, replicas: this.inputs.replicas, memberIps: allocated.etcdMemberIps, persistent, certsHash: await this.certsHash(ETCD_SECRET, signal) }), signal);
    const storage = persistent
      ? `data on PersistentVolumeClaims${storageClass ? ` (StorageClass ${storageClass})` : ''}`
      : "data on emptyDir: the seed has no default StorageClass, so a member's data is lost with its pod; give the seed a default StorageClass for new clusters";
    await this.refreshFiles('etcd', ETCD_SECRET, signal);
    await this.waitReady('etcd', 'EtcdReady', foreign, signal, async () => statefulSetRollout(await this.read<V1StatefulSet>('apps/v1', 'StatefulSet', ETCD_STATEFULSET, signal)), storage);
  }

  /**
   * etcd and the apiserver are not rolled on a renewal (leaf-pki.ts RELOADED_LEAVES): their renewed leaves
   * reach them through kubelet's refresh of their Secret volume (mounted whole, never subPath). Kubelet
   * refreshes a pod's Secret volumes on every sync of that pod (the volume manager's WaitForAttachAndMount
   * reprocesses them), and an update of the pod object is a sync: so each pod is annotated with its Secret's
   * content hash, and the renewed files are there within seconds rather than at kubelet's next periodic
   * sync (up to 90 s). Only the pod's metadata changes: nothing restarts.
   */
  private async refreshFiles(component: SeedComponent, secret: string, signal: AbortSignal): Promise<void> {
    const hash = secretHash(await this.secretData(secret, signal));
    const pods = await this.track(this.o.api.list<V1Pod>('v1', 'Pod', this.ns.name, signal, `${COMPONENT_LABEL}=${component}`), signal);
    for (const pod of pods) {
      if (pod.metadata?.annotations?.[CERTS_CONTENT_ANNOTATION] === hash || pod.metadata?.deletionTimestamp) continue;
      await this.track(this.o.api.annotate({ apiVersion: 'v1', kind: 'Pod', namespace: this.ns.name, name: pod.metadata?.name ?? '' }, { [CERTS_CONTENT_ANNOTATION]: hash }, signal), signal);
    }
  }

  private async defaultStorageClass(signal: AbortSignal): Promise<string | undefined> {
    const classes = await this.track(this.o.api.list('storage.k8s.io/v1', 'StorageClass', undefined, signal), signal);
    return classes.find((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')?.metadata?.name;
  }

  private async apiServer(signal: AbortSignal): Promise<void> {
    const { allocated, endpoint } = await this.allocated(signal);
    const existing = await this.read<V1Deployment>('apps/v1', 'Deployment', APISERVER_DEPLOYMENT, signal);
    const foreign = foreignSpecManagers(existing, FIELD_MANAGER);
    await this.apply(
      apiServerDeployment(this.m, {
        image: this.inputs.images['kube-apiserver'],
        replicas: this.inputs.replicas,
        etcdServers: [`https://${allocated.etcdClientIp}:${ETCD_CLIENT_PORT}`],
        serviceCidr: this.inputs.serviceCidr,
        certsHash: await this.certsHash(APISERVER_SECRET, signal),
      }),
      signal,
    );
    await this.refreshFiles('kube-apiserver', APISERVER_SECRET, signal);
    const ca = this.keys().ca.certPem;
    await this.waitReady('kube-apiserver', 'APIServerReady', foreign, signal, async () => {
      const rollout = deploymentRollout(await this.read<V1Deployment>('apps/v1', 'Deployment', APISERVER_DEPLOYMENT, signal));
      if (!rollout.ready) return rollout;
      // Ready pods are not enough: the endpoint must answer from outside the seed, as clients reach it.
      try {
        const r = await this.o.probe(endpoint, ca, signal);
        if (r.status === 200 && r.body === 'ok') return { ready: true, summary: `${rollout.summary}; ${endpoint}/readyz answers ok` };
        return { ready: false, summary: `${rollout.summary}; ${endpoint}/readyz answers ${r.status}: ${r.body.slice(0, 200)}` };
      } catch (err) {
        if (signal.aborted) throw err;
        return { ready: false, summary: `${rollout.summary}; ${endpoint}/readyz does not answer: ${(err as Error).message}` };
      }
    });
    this.learned.endpoint = endpoint;
  }

  /**
   * kubeadm init's later phases, for the static workers a site's agent joins: the bootstrap token the hub
   * derives too (and delivers to that agent alone), cluster-info, join RBAC, kubeadm-config, kubelet-config
   * and kube-proxy, applied in the hosted cluster itself through its endpoint.
   */
  private async joinable(signal: AbortSignal): Promise<void> {
    const keys = this.keys();
    const { endpoint } = await this.allocated(signal);
    const join = hostedJoinSecrets(keys.ca, this.obj.metadata.uid ?? '');
    const objects = joinableObjects({
      clusterName: this.obj.metadata.name ?? '',
      kubernetesVersion: `v${this.inputs.version}`,
      endpoint,
      caCertPem: keys.ca.certPem,
      token: join.bootstrapToken,
      podCidr: this.inputs.podCidr,
      serviceCidr: this.inputs.serviceCidr,
      dnsDomain: 'cluster.local',
      ...(this.inputs.kubeProxyImage ? { kubeProxyImage: this.inputs.kubeProxyImage } : {}),
    });
    try {
      const api = await hostedClusterApi(endpoint, keys);
      for (const o of objects) await api.apply(o, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const message = `the hosted API server at ${endpoint} did not take what static workers join with: ${(err as Error).message}`;
      this.setCondition('WorkersJoinable', false, 'NotApplied', message);
      throw new Error(message, { cause: err });
    }
    this.setCondition('WorkersJoinable', true, 'Applied', `bootstrap token, kube-public/cluster-info, join RBAC, kubeadm-config and kubelet-config${this.inputs.kubeProxyImage ? `, kube-proxy (${this.inputs.kubeProxyImage})` : ' (no kube-proxy: the Release names none)'} in the hosted cluster`);
  }

  private async controllerManager(signal: AbortSignal): Promise<void> {
    const existing = await this.read<V1Deployment>('apps/v1', 'Deployment', CONTROLLER_MANAGER_DEPLOYMENT, signal);
    const foreign = foreignSpecManagers(existing, FIELD_MANAGER);
    await this.apply(controllerManagerDeployment(this.m, { image: this.inputs.images['kube-controller-manager'], serviceCidr: this.inputs.serviceCidr, certsHash: await this.certsHash(CONTROLLER_MANAGER_SECRET, signal) }), signal);
    await this.waitReady('kube-controller-manager', 'ControllerManagerReady', foreign, signal, async () => deploymentRollout(await this.read<V1Deployment>('apps/v1', 'Deployment', CONTROLLER_MANAGER_DEPLOYMENT, signal)));
  }

  private async scheduler(signal: AbortSignal): Promise<void> {
    const existing = await this.read<V1Deployment>('apps/v1', 'Deployment', SCHEDULER_DEPLOYMENT, signal);
    const foreign = foreignSpecManagers(existing, FIELD_MANAGER);
    await this.apply(schedulerDeployment(this.m, { image: this.inputs.images['kube-scheduler'], certsHash: await this.certsHash(SCHEDULER_SECRET, signal) }), signal);
    await this.waitReady('kube-scheduler', 'SchedulerReady', foreign, signal, async () => deploymentRollout(await this.read<V1Deployment>('apps/v1', 'Deployment', SCHEDULER_DEPLOYMENT, signal)));
  }

  /** What the watch saw done to `component`'s objects by another hand, as a status suffix ('' for nothing). */
  private healedNote(component: string): string {
    const notes = this.drift.filter((d) => d.component === component).map((d) => d.note);
    return notes.length ? `; put back after the watch saw: ${notes.join('; ')}` : '';
  }

  /**
   * Polls until `rollout` says ready, keeping the component's condition current. Pods stuck on their image
   * fail the attempt at once, with a message naming the image: waiting longer would not bring it.
   */
  private async waitReady(component: SeedComponent, type: string, foreign: string[], signal: AbortSignal, rollout: () => Promise<Rollout>, note?: string): Promise<void> {
    const edited = foreign.length ? `; its spec had been changed on the seed by ${[...new Set(foreign)].join(', ')} and is put back` : '';
    if (foreign.length) this.ctx.log.warn({ namespace: this.ns.name, component, managers: foreign }, 'put back a hand-edited control plane object');
    const watched = this.healedNote(component);
    const suffix = `${note ? `; ${note}` : ''}${edited}${watched}`;
    const gone = new Set(this.drift.filter((d) => d.component === component && d.podUid).map((d) => d.podUid!));
    const pods = () => this.track(this.o.api.list<V1Pod>('v1', 'Pod', this.ns.name, signal, `${COMPONENT_LABEL}=${component}`), signal);
    for (;;) {
      let r = await rollout();
      // A pod deleted by hand is back only once it is gone and its replacement is ready.
      if (r.ready && gone.size) {
        const replaced = podsReplaced(await pods(), gone);
        r = replaced.ready ? r : replaced;
      }
      if (r.ready) {
        this.setCondition(type, true, foreign.length || watched ? 'Healed' : 'Ready', `${component}: ${r.summary}${suffix}`);
        return;
      }
      const stuck = imageProblem(await pods());
      if (stuck) {
        const err = new ImageMissingError(component, stuck.image, stuck.node, stuck.reason, this.inputs.version);
        this.setCondition(type, false, 'ImageMissing', err.message);
        throw err;
      }
      this.setCondition(type, false, 'Progressing', `${component}: ${r.summary}${suffix}`);
      await sleep(systemClock, this.o.pollMs, signal);
    }
  }
}
