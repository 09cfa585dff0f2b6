// What a kubeadm upgrade of a site cluster does, and in which order, decided from what the cluster says
// (its nodes, its kubeadm ClusterConfiguration) and from the Cluster's status and the agent's journal. Pure:
// kubeadm-upgrade.ts runs it over SSH.
//
// The order is KubeOne's: the new Release's images on every host first (kube-proxy's DaemonSet rolls on
// every node as soon as `kubeadm upgrade apply` ends); then `kubeadm upgrade apply` on the first
// control-plane host; `kubeadm upgrade node` on the other control-plane hosts, one at a time; then each
// worker, one at a time, drained first and uncordoned after: each is its own unit of change (KubeOne #4007),
// and a retried upgrade goes on from the host it stopped at (#4059), because every step looks at its node
// first and leaves a node at the new version alone.
import { normaliseVersion, parseKubeVersion, type NodeState } from '@outpost/proto';
import { parse, stringify } from 'yaml';
import type { ClusterPlan, NodeRole } from './cluster-plan.js';
import type { KubeadmImagePlan } from './kubeadm-images.js';

/**
 * On a node this upgrade cordoned (it was schedulable before its drain): the version it was drained for.
 * Only such a node is uncordoned after: a node the operator had cordoned stays cordoned.
 */
export const DRAINED_ANNOTATION = 'outpost.dev/drained-for-upgrade';

/** A node of the cluster as `kubectl get nodes -o json` says. */
export interface NodeSnapshot {
  name: string;
  /** kubelet's version, "v1.34.4". */
  version: string;
  ready: boolean;
  unschedulable: boolean;
  /** DRAINED_ANNOTATION's value, "" when absent. */
  drainedFor: string;
}

interface NodeList {
  items: Array<{
    metadata: { name: string; annotations?: Record<string, string> };
    spec?: { unschedulable?: boolean };
    status?: { conditions?: Array<{ type: string; status: string }>; nodeInfo?: { kubeletVersion?: string } };
  }>;
}

/** The nodes of `kubectl get nodes -o json` (or one node's `get node NAME -o json`), by name. */
export function parseNodes(json: string): Map<string, NodeSnapshot> {
  const doc = JSON.parse(json) as NodeList | NodeList['items'][number];
  const items = 'items' in doc ? doc.items : [doc];
  return new Map(
    items.map((n) => [
      n.metadata.name,
      {
        name: n.metadata.name,
        version: n.status?.nodeInfo?.kubeletVersion ?? '',
        ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
        unschedulable: n.spec?.unschedulable === true,
        drainedFor: n.metadata.annotations?.[DRAINED_ANNOTATION] ?? '',
      },
    ]),
  );
}

/** A kubelet or cluster version newer than the one wanted: kubeadm does not go back, and Outpost does not try. */
export class UpgradeRefusedError extends Error {
  override readonly name = 'UpgradeRefusedError';
  readonly retryable = false;
}

/** -1, 0, 1 as `a` is older than, the same as, or newer than `b`; undefined when either does not parse. */
export function compareVersions(a: string, b: string): number | undefined {
  const x = parseKubeVersion(normaliseVersion(a));
  const y = parseKubeVersion(normaliseVersion(b));
  if (!x || !y) return undefined;
  return Math.sign(x.major - y.major || x.minor - y.minor || x.patch - y.patch);
}

/**
 * What one host's upgrade step has to do: nothing (its node is at the target, or is not a node yet: the
 * kubeadm flow joins it at the target), uncordon it (its kubelet was upgraded, and the step stopped
 * before the uncordon), or upgrade it.
 */
export type HostUpgradeAction = 'done' | 'absent' | 'uncordon' | 'upgrade';

export function hostUpgradeAction(node: NodeSnapshot | undefined, target: string): HostUpgradeAction {
  if (!node) return 'absent';
  const cmp = compareVersions(node.version, target);
  if (cmp === undefined) throw new UpgradeRefusedError(`node ${node.name} reports kubelet version "${node.version}", which is not a Kubernetes version: look at its kubelet (systemctl status kubelet)`);
  if (cmp > 0) throw new UpgradeRefusedError(`node ${node.name} runs kubelet ${node.version}, newer than spec.version ${target}: kubeadm does not downgrade; set spec.version to ${node.version} or later`);
  if (cmp < 0) return 'upgrade';
  return node.drainedFor ? 'uncordon' : 'done';
}

/**
 * Whether `kubeadm upgrade apply` must run: the cluster's ClusterConfiguration (kube-system/kubeadm-config)
 * names an older version than the target. One that names a newer one is refused.
 */
export function applyNeeded(clusterVersion: string, target: string): boolean {
  const cmp = compareVersions(clusterVersion, target);
  if (cmp === undefined) throw new UpgradeRefusedError(`the cluster's kubeadm ClusterConfiguration names kubernetesVersion "${clusterVersion}", which is not a Kubernetes version: look at kubectl -n kube-system get configmap kubeadm-config`);
  if (cmp > 0) throw new UpgradeRefusedError(`the cluster's control plane is at ${clusterVersion}, newer than spec.version ${target}: kubeadm does not downgrade; set spec.version to ${clusterVersion} or later`);
  return cmp < 0;
}

export interface UpgradeWantedInputs {
  /**
   * Every host's node as the cluster says now (kubectl get nodes through the first control-plane host),
   * or, where its API does not answer, the Cluster's status.nodes as last reported.
   */
  nodes: readonly NodeState[];
  /** spec.version. */
  target: string;
  /** The agent's journal holds a run of the upgrade flow for this generation (a kill -9 cut it off). */
  resuming: boolean;
}

/**
 * Whether this reconcile runs the upgrade flow before the kubeadm flow: a node of the cluster is at
 * another version than the target, or the journal says an upgrade was under way (its nodes may all be at
 * the target, the last one still cordoned). A node above the target is the upgrade's to refuse, with its
 * message. A cluster not made yet has no nodes: it is made at the target.
 */
export function upgradeWanted(i: UpgradeWantedInputs): boolean {
  if (i.resuming) return true;
  return i.nodes.some((n) => !!n.version && compareVersions(n.version, i.target) !== 0);
}

export type UpgradeStepKind = 'images' | 'apply' | 'control-plane' | 'worker';

export interface UpgradeStepPlan {
  name: string;
  host: string;
  role: NodeRole;
  kind: UpgradeStepKind;
  dependsOn: string[];
}

/**
 * The upgrade flow's steps: images on every host (in parallel), then the first control-plane host, the
 * other control-plane hosts one after another, then the workers one after another.
 */
export function upgradeSteps(plan: ClusterPlan): UpgradeStepPlan[] {
  const images = plan.all.map((h): UpgradeStepPlan => ({ name: `upgrade-images:${h.name}`, host: h.name, role: h.role, kind: 'images', dependsOn: [] }));
  const out = [...images];
  let previous: UpgradeStepPlan = { name: `upgrade-apply:${plan.init.name}`, host: plan.init.name, role: 'control-plane', kind: 'apply', dependsOn: images.map((s) => s.name) };
  out.push(previous);
  for (const h of plan.controlPlane.slice(1)) {
    previous = { name: `upgrade-node:${h.name}`, host: h.name, role: 'control-plane', kind: 'control-plane', dependsOn: [previous.name] };
    out.push(previous);
  }
  for (const h of plan.workers) {
    previous = { name: `upgrade-worker:${h.name}`, host: h.name, role: 'worker', kind: 'worker', dependsOn: [previous.name] };
    out.push(previous);
  }
  return out;
}

export interface ClusterConfigurationUpgrade {
  /** The ClusterConfiguration to store in kube-system/kubeadm-config before the apply; undefined when it needs no change. */
  yaml: string | undefined;
  /** The version it names now. */
  currentVersion: string;
  /** Whether etcd's image changes: only then does `kubeadm upgrade apply` touch etcd (--etcd-upgrade). */
  etcdChanged: boolean;
  /** The cluster runs no CoreDNS (dns.disabled): kubeadm's CoreDNS checks have nothing to check. */
  dnsDisabled: boolean;
}

interface StoredClusterConfiguration {
  kubernetesVersion?: string;
  imageRepository?: string;
  etcd?: { local?: { imageRepository?: string; imageTag?: string } };
  dns?: { disabled?: boolean; imageRepository?: string; imageTag?: string };
}

/**
 * The cluster's stored ClusterConfiguration (kubeadm-config's data.ClusterConfiguration) with the new
 * Release's images. `kubeadm upgrade apply` takes the version on its command line, but every other image it
 * runs from the stored configuration, where kubeadm init put the old Release's; kubeadm's way to change them
 * is this ConfigMap (kubeadm docs, "Reconfiguring a kubeadm cluster"). kubernetesVersion is left to the
 * apply, which writes it when it has succeeded: until then it says where the control plane is.
 */
export function clusterConfigurationForUpgrade(currentYaml: string, images: KubeadmImagePlan): ClusterConfigurationUpgrade {
  const doc = (parse(currentYaml) ?? {}) as StoredClusterConfiguration;
  const before = stringify(doc, { lineWidth: 0 });
  const etcdBefore = `${doc.etcd?.local?.imageRepository ?? ''}/${doc.etcd?.local?.imageTag ?? ''}`;
  doc.imageRepository = images.imageRepository;
  doc.etcd = { ...doc.etcd, local: { ...doc.etcd?.local, imageRepository: images.etcd.imageRepository, imageTag: images.etcd.imageTag } };
  // DNS stays as kubeadm init left it (on or off); where it is on, it runs the new Release's CoreDNS.
  if (images.dns && !doc.dns?.disabled) doc.dns = { ...doc.dns, imageRepository: images.dns.imageRepository, imageTag: images.dns.imageTag };
  const after = stringify(doc, { lineWidth: 0 });
  return {
    yaml: after === before ? undefined : after,
    currentVersion: doc.kubernetesVersion ?? '',
    etcdChanged: etcdBefore !== `${images.etcd.imageRepository}/${images.etcd.imageTag}`,
    dnsDisabled: doc.dns?.disabled === true,
  };
}
