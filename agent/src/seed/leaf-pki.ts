// The leaf certificates of a hosted control plane, signed by the agent with the CAs the hub delivered
// (the hub stays the CA of record; no CA is ever made here). Each component's certificates sit in one
// Secret, so a pod template carries one hash and a change rolls exactly the pods that use it; the hash
// leaves out the leaves a component reads again by itself (RELOADED_LEAVES), so a renewal rolls only the
// controller-manager and the scheduler, never etcd or the apiserver. A leaf is
// kept while it is signed by the current CA, names the wanted SANs and is younger than 2/3 of its life;
// otherwise it is signed again. There is no long-lived admin: admins get short-lived kubeconfigs from the hub.
import { createHash } from 'node:crypto';
import type { ClusterKeys, KeyPairPem } from '@outpost/proto';
import { readCertificate, signLeaf, type LeafUsage } from '@outpost/proto/x509';
import { componentKubeconfig } from './component-kubeconfig.js';

export const ETCD_SECRET = 'etcd-certs';
export const APISERVER_SECRET = 'kube-apiserver-certs';
export const CONTROLLER_MANAGER_SECRET = 'kube-controller-manager-certs';
export const SCHEDULER_SECRET = 'kube-scheduler-certs';
export const PKI_SECRETS = [ETCD_SECRET, APISERVER_SECRET, CONTROLLER_MANAGER_SECRET, SCHEDULER_SECRET] as const;

/** Kubeadm's one year. */
export const DEFAULT_LEAF_LIFETIME_MS = 365 * 86_400_000;
/**
 * A leaf is signed again once this share of its life is over, so it never runs out under a pod: the last
 * third is the time kubelet has to put a renewed Secret into a running pod's files (etcd is not rolled),
 * which is within its sync period (1 minute, plus up to half of it in jitter, by default).
 */
export const RENEW_AT_FRACTION = 2 / 3;

/** Where a hosted control plane is reached: every name and address a serving certificate must answer for. */
export interface PkiAddresses {
  /** The API server's: Service names and ClusterIP, the endpoint's host, the hosted cluster's `kubernetes` Service IP. */
  apiServerSans: readonly string[];
  /** etcd's: the client Service's names and ClusterIP, each member's peer name. */
  etcdSans: readonly string[];
  /** The URL the controller-manager and scheduler reach the API server at (inside the seed). */
  inClusterApiServer: string;
}

export interface LeafPkiInput {
  keys: ClusterKeys;
  addresses: PkiAddresses;
  lifetimeMs: number;
  now: Date;
  /** The Secrets' data as the seed holds them now (decoded), by Secret name; absent ones are made. */
  existing: Readonly<Record<string, Readonly<Record<string, string>> | undefined>>;
}

export interface LeafPkiOutput {
  /** Each Secret's data, by Secret name. */
  secrets: Record<string, Record<string, string>>;
  /** Each Secret's rollHash, for the pod template annotation that rolls the pods when it changes. */
  hashes: Record<string, string>;
  /** Each Secret's whole content hash: a pod annotated with it has been asked to refresh its files (contentHash). */
  contentHashes: Record<string, string>;
  /** How many leaves were signed this time (0 on a run that changed nothing). */
  signed: number;
  /** When the first of the leaves is due to be signed again. */
  renewAt: Date;
}

type CaName = 'ca' | 'frontProxyCa' | 'etcdCa';

interface LeafSpec {
  secret: string;
  /** The data keys are `<file>.crt` and `<file>.key`. */
  file: string;
  ca: CaName;
  commonName: string;
  organizations?: readonly string[];
  sans?: readonly string[];
  usages: readonly LeafUsage[];
}

/** Kubeadm's subjects, so the hosted cluster's RBAC bootstrap (system:kube-controller-manager, ...) applies as is. */
function leafSpecs(a: PkiAddresses): LeafSpec[] {
  return [
    { secret: ETCD_SECRET, file: 'server', ca: 'etcdCa', commonName: 'etcd-server', sans: a.etcdSans, usages: ['server', 'client'] },
    { secret: ETCD_SECRET, file: 'peer', ca: 'etcdCa', commonName: 'etcd-peer', sans: a.etcdSans, usages: ['server', 'client'] },
    { secret: APISERVER_SECRET, file: 'apiserver', ca: 'ca', commonName: 'kube-apiserver', sans: a.apiServerSans, usages: ['server'] },
    // In system:masters, as kubeadm had it before its kubeadm:cluster-admins group (bound by kubeadm, which a
    // hosted cluster has not): logs, exec and port-forward need the kubelet's whole API.
    { secret: APISERVER_SECRET, file: 'kubelet-client', ca: 'ca', commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usages: ['client'] },
    { secret: APISERVER_SECRET, file: 'etcd-client', ca: 'etcdCa', commonName: 'kube-apiserver-etcd-client', usages: ['client'] },
    { secret: APISERVER_SECRET, file: 'front-proxy-client', ca: 'frontProxyCa', commonName: 'front-proxy-client', usages: ['client'] },
    { secret: CONTROLLER_MANAGER_SECRET, file: 'client', ca: 'ca', commonName: 'system:kube-controller-manager', usages: ['client'] },
    { secret: SCHEDULER_SECRET, file: 'client', ca: 'ca', commonName: 'system:kube-scheduler', usages: ['client'] },
  ];
}

const sameSans = (a: readonly string[], b: readonly string[]): boolean => [...a].sort().join(',') === [...b].sort().join(',');

/** When `cert` is due to be signed again, or undefined when it must be signed now. */
async function keptUntil(have: KeyPairPem | undefined, spec: LeafSpec, ca: KeyPairPem, now: Date): Promise<Date | undefined> {
  if (!have?.certPem || !have.keyPem) return undefined;
  let facts;
  try {
    facts = readCertificate(have.certPem);
  } catch {
    return undefined;
  }
  if (!(await facts.signedBy(ca))) return undefined;
  if (!sameSans(facts.sans, spec.sans ?? [])) return undefined;
  const life = facts.notAfter.getTime() - facts.notBefore.getTime();
  const renewAt = new Date(facts.notBefore.getTime() + life * RENEW_AT_FRACTION);
  return renewAt > now ? renewAt : undefined;
}

/**
 * The leaves each component reads again from its files while it runs, so their renewal reaches a running pod
 * through kubelet's refresh of its Secret volume, with no restart: etcd on every TLS handshake
 * (client/pkg/transport's GetCertificate and GetClientCertificate call tlsutil.NewCert each time);
 * kube-apiserver its serving certificate and front-proxy client (dynamiccertificates, which watch the
 * files), its kubelet client (ReloadTLSFiles) and its etcd client (etcd's transport again). The
 * controller-manager's and scheduler's kubeconfigs hold their certificates inline, read once: not here.
 */
export const RELOADED_LEAVES: Readonly<Record<string, readonly string[]>> = {
  [ETCD_SECRET]: ['server', 'peer'],
  [APISERVER_SECRET]: ['apiserver', 'kubelet-client', 'etcd-client', 'front-proxy-client'],
};

/** The hash a component's pod template carries: of what it reads once (CAs, keys, inline kubeconfigs). */
export function rollHash(secret: string, data: Readonly<Record<string, string>>): string {
  const reloaded = new Set((RELOADED_LEAVES[secret] ?? []).flatMap((f) => [`${f}.crt`, `${f}.key`]));
  return secretHash(Object.fromEntries(Object.entries(data).filter(([k]) => !reloaded.has(k))));
}

export function secretHash(data: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(data).sort()) h.update(`${k}\0${data[k]}\0`);
  return h.digest('hex').slice(0, 16);
}

/** The four Secrets of a control plane's PKI, keeping every leaf that is still good. */
export async function buildLeafPki(input: LeafPkiInput): Promise<LeafPkiOutput> {
  const { keys, now } = input;
  const secrets: Record<string, Record<string, string>> = {
    [ETCD_SECRET]: { 'ca.crt': keys.etcdCa.certPem },
    [APISERVER_SECRET]: {
      'ca.crt': keys.ca.certPem,
      'etcd-ca.crt': keys.etcdCa.certPem,
      'front-proxy-ca.crt': keys.frontProxyCa.certPem,
      'sa.pub': keys.serviceAccount.publicKeyPem,
      'sa.key': keys.serviceAccount.privateKeyPem,
    },
    // The controller-manager signs kubelets' certificates (the CSR signer) with the cluster CA, as kubeadm's does.
    [CONTROLLER_MANAGER_SECRET]: { 'ca.crt': keys.ca.certPem, 'ca.key': keys.ca.keyPem, 'sa.key': keys.serviceAccount.privateKeyPem },
    [SCHEDULER_SECRET]: { 'ca.crt': keys.ca.certPem },
  };
  let signed = 0;
  let renewAt = new Date(now.getTime() + input.lifetimeMs * RENEW_AT_FRACTION);
  for (const spec of leafSpecs(input.addresses)) {
    const ca = keys[spec.ca];
    const old = input.existing[spec.secret];
    const have = old ? { certPem: old[`${spec.file}.crt`] ?? '', keyPem: old[`${spec.file}.key`] ?? '' } : undefined;
    let leaf: KeyPairPem;
    const until = await keptUntil(have, spec, ca, now);
    if (until && have) {
      leaf = have;
      if (until < renewAt) renewAt = until;
    } else {
      leaf = await signLeaf(ca, { commonName: spec.commonName, organizations: spec.organizations ?? [], sans: spec.sans ?? [], usages: spec.usages, notAfter: new Date(now.getTime() + input.lifetimeMs) });
      signed++;
    }
    const data = secrets[spec.secret]!;
    data[`${spec.file}.crt`] = leaf.certPem;
    data[`${spec.file}.key`] = leaf.keyPem;
  }
  for (const [secret, user] of [[CONTROLLER_MANAGER_SECRET, 'system:kube-controller-manager'], [SCHEDULER_SECRET, 'system:kube-scheduler']] as const) {
    const data = secrets[secret]!;
    data.kubeconfig = componentKubeconfig({ server: input.addresses.inClusterApiServer, caPem: keys.ca.certPem, user, client: { certPem: data['client.crt']!, keyPem: data['client.key']! } });
  }
  const hashes = Object.fromEntries(Object.entries(secrets).map(([name, data]) => [name, rollHash(name, data)]));
  const contentHashes = Object.fromEntries(Object.entries(secrets).map(([name, data]) => [name, secretHash(data)]));
  return { secrets, hashes, contentHashes, signed, renewAt };
}
