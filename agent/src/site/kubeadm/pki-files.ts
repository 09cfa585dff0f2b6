// The cluster's CAs and service-account key where kubeadm looks for them (/etc/kubernetes/pki), written
// before `kubeadm init` so kubeadm signs only leaves with the hub's CAs (the hub is the CA of record) and a
// cluster keeps its CAs through a rebuild of its control plane. Pure: what to write, not the writing.
import type { ClusterKeys } from '@outpost/proto';

export const PKI_DIR = '/etc/kubernetes/pki';

export interface HostFile {
  path: string;
  content: string;
  mode: number;
}

/** Every control-plane host gets these; a worker needs none (it trusts the CA by its hash at join). */
export function controlPlanePkiFiles(keys: ClusterKeys): HostFile[] {
  const cert = (name: string, content: string): HostFile => ({ path: `${PKI_DIR}/${name}`, content, mode: 0o644 });
  const key = (name: string, content: string): HostFile => ({ path: `${PKI_DIR}/${name}`, content, mode: 0o600 });
  return [
    cert('ca.crt', keys.ca.certPem),
    key('ca.key', keys.ca.keyPem),
    cert('front-proxy-ca.crt', keys.frontProxyCa.certPem),
    key('front-proxy-ca.key', keys.frontProxyCa.keyPem),
    cert('etcd/ca.crt', keys.etcdCa.certPem),
    key('etcd/ca.key', keys.etcdCa.keyPem),
    key('sa.key', keys.serviceAccount.privateKeyPem),
    cert('sa.pub', keys.serviceAccount.publicKeyPem),
  ];
}
