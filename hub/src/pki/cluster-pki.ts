// The hub as every cluster's CA of record: a Cluster's CAs and service-account key are made with it and
// kept sealed with secrets.key (store/cluster-pki-table.ts), and the hub signs short-lived admin client
// certificates from them on request, each one audited. No long-lived admin credential is handed out.
import type { Cluster, ObjectKey, ResourceObject } from '@outpost/proto';
import { findKind, rfc3339 } from '@outpost/proto';
import YAML from 'yaml';
import { authorize, type Principal } from '../auth/principal.js';
import { seal, unseal } from '../auth/seal.js';
import { systemClock, timestamp, type Clock } from '../clock.js';
import { BadRequestError, ForbiddenError, HubError } from '../errors.js';
import type { ClusterPkiRow } from '../store/cluster-pki-table.js';
import type { Store } from '../store/store.js';
import { createAdminClientCert, createClusterKeys, type ClusterKeys } from './cluster-ca.js';

/** An admin kubeconfig's lifetime, in seconds: the default, and the bounds a request may ask within. */
export const KUBECONFIG_EXPIRATION = { defaultSeconds: 3600, minSeconds: 600, maxSeconds: 86_400 } as const;

/** What the kubeconfig subresource answers. */
export interface AdminKubeconfig {
  apiVersion: 'outpost.dev/v1alpha1';
  kind: 'AdminKubeconfig';
  metadata: { name: string; namespace: string };
  /** The kubeconfig YAML: the cluster's endpoint and CA, a client certificate and its key inline. */
  kubeconfig: string;
  /** RFC 3339: when the client certificate expires. */
  expirationTimestamp: string;
}

/** The private keys as sealed in one value (the certificates are stored as they are). */
interface SealedKeys {
  ca: string;
  frontProxyCa: string;
  etcdCa: string;
  serviceAccount: string;
}

const CLUSTER = findKind('Cluster')!;

/** The AAD of a Cluster's sealed keys: they open only on the row of the Cluster they were made for. */
function sealContext(namespace: string, name: string, uid: string): string {
  return `cluster-pki/${namespace}/${name}/${uid}`;
}

/** A status.endpoint as a kubeconfig server: "host:port" gets https://, a URL is kept. */
function serverUrl(endpoint: string): string {
  return /^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
}

/** A request's expirationSeconds, checked against KUBECONFIG_EXPIRATION; undefined takes the default. */
export function kubeconfigSeconds(value: unknown): number {
  if (value === undefined || value === null) return KUBECONFIG_EXPIRATION.defaultSeconds;
  const { minSeconds, maxSeconds } = KUBECONFIG_EXPIRATION;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minSeconds || value > maxSeconds) {
    throw new BadRequestError(`expirationSeconds must be a whole number of seconds from ${minSeconds} (10m) to ${maxSeconds} (24h), not ${JSON.stringify(value)}; ask again within those bounds (outpost kubeconfig --expiration 1h)`);
  }
  return value;
}

export class ClusterPki {
  /** The keys for the one Cluster create running now (see prepare): the store's transaction is synchronous, key generation is not. */
  private prepared: ClusterKeys | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly store: Store,
    private readonly secretsKey: Buffer,
    opts: { clock?: Clock } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Hooks into the store's Cluster creates; returns the function that unhooks. */
  start(): () => void {
    return this.store.onCreate('Cluster', (c) => this.created(c));
  }

  /**
   * Makes a Cluster's keys ahead of a write that may create it, and returns the function to run that
   * write with: a Cluster it creates gets these keys in its own transaction. Keys a write does not use
   * (an apply that changes a Cluster, a create that fails) are dropped, never stored.
   */
  async prepare(): Promise<<T>(write: () => T) => T> {
    const keys = await createClusterKeys();
    return (write) => {
      this.prepared = keys;
      try {
        return write();
      } finally {
        this.prepared = undefined;
      }
    };
  }

  private created(obj: ResourceObject): void {
    const keys = this.prepared;
    this.prepared = undefined; // one Cluster, one set of keys
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const uid = obj.metadata.uid ?? '';
    if (!keys) throw new HubError(500, 'InternalError', `Cluster "${name}" was created without its CAs: Clusters are created through the admin API, which makes them first; nothing was written`);
    const sealed: SealedKeys = { ca: keys.ca.keyPem, frontProxyCa: keys.frontProxyCa.keyPem, etcdCa: keys.etcdCa.keyPem, serviceAccount: keys.serviceAccount.privateKeyPem };
    this.store.clusterPki.put({
      namespace, name, uid,
      caCertPem: keys.ca.certPem,
      frontProxyCaCertPem: keys.frontProxyCa.certPem,
      etcdCaCertPem: keys.etcdCa.certPem,
      serviceAccountPublicKeyPem: keys.serviceAccount.publicKeyPem,
      sealedKeys: seal(this.secretsKey, sealContext(namespace, name, uid), Buffer.from(JSON.stringify(sealed))),
      created: timestamp(this.clock),
    });
  }

  /** A Cluster's keys, opened (for delivery to the agent that serves it, and for signing here). */
  keys(row: ClusterPkiRow): ClusterKeys {
    const k = JSON.parse(unseal(this.secretsKey, sealContext(row.namespace, row.name, row.uid), row.sealedKeys).toString('utf8')) as SealedKeys;
    return {
      ca: { certPem: row.caCertPem, keyPem: k.ca },
      frontProxyCa: { certPem: row.frontProxyCaCertPem, keyPem: k.frontProxyCa },
      etcdCa: { certPem: row.etcdCaCertPem, keyPem: k.etcdCa },
      serviceAccount: { publicKeyPem: row.serviceAccountPublicKeyPem, privateKeyPem: k.serviceAccount },
    };
  }

  /**
   * An admin kubeconfig for a Running Cluster, its client certificate signed now for `p` and expiring in
   * `seconds`; audited. Admins, and a project's owners and editors, may ask: it is cluster-admin.
   */
  async adminKubeconfig(p: Principal, namespace: string, name: string, seconds: number): Promise<AdminKubeconfig> {
    authorize(p, 'get', CLUSTER, namespace, name);
    if (p.role === 'viewer') {
      throw new ForbiddenError(`token ${p.name} (role viewer in project ${namespace}) may not get an admin kubeconfig of cluster ${name}: it grants cluster-admin (system:masters); ask an owner or editor of the project`);
    }
    const key: ObjectKey = { kind: 'Cluster', namespace, name };
    const cluster = this.store.mustGet<Cluster>('Cluster', namespace, name);
    if (cluster.metadata.deletionTimestamp) throw new HubError(409, 'Conflict', `Cluster "${name}" in project "${namespace}" is being deleted; no kubeconfig is handed out for it`);
    const endpoint = cluster.status?.endpoint;
    if (!endpoint) {
      throw new HubError(409, 'Conflict', `Cluster "${name}" in project "${namespace}" is not Running yet (phase ${cluster.status?.phase || 'unset'}, no status.endpoint): its API server has no address to put in a kubeconfig; wait until \`outpost get cluster ${name} -n ${namespace}\` shows an endpoint, then ask again`);
    }
    const row = this.store.clusterPki.get(namespace, name);
    if (!row || row.uid !== cluster.metadata.uid) {
      throw new HubError(409, 'Conflict', `Cluster "${name}" in project "${namespace}" has no CA of record on this hub (it was made before the hub kept cluster CAs); the hub cannot sign a kubeconfig for it`);
    }
    // X.509 times are whole seconds: the certificate expires exactly at the time reported.
    const notAfter = new Date(Math.floor(this.clock.now().getTime() / 1000) * 1000 + seconds * 1000);
    const client = await createAdminClientCert(this.keys(row).ca, p.name, notAfter);
    const entry = `outpost-${namespace}-${name}`;
    const kubeconfig = YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: entry, cluster: { server: serverUrl(endpoint), 'certificate-authority-data': Buffer.from(row.caCertPem).toString('base64') } }],
      users: [{ name: `${entry}-admin`, user: { 'client-certificate-data': Buffer.from(client.certPem).toString('base64'), 'client-key-data': Buffer.from(client.keyPem).toString('base64') } }],
      contexts: [{ name: entry, context: { cluster: entry, user: `${entry}-admin` } }],
      'current-context': entry,
    });
    // Written before the kubeconfig leaves: one that cannot be audited is not handed out.
    this.store.recordAudit({ actor: p.name }, 'kubeconfig', key);
    return { apiVersion: 'outpost.dev/v1alpha1', kind: 'AdminKubeconfig', metadata: { name, namespace }, kubeconfig, expirationTimestamp: rfc3339(notAfter) };
  }
}
