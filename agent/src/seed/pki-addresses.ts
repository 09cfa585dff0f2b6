// Every name and address the control plane's serving certificates answer for, from what the seed
// allocated (the Services' ClusterIPs, the endpoint) and the hosted cluster's own Service range. Pure.
import { isIPv4 } from 'node:net';
import type { PkiAddresses } from './leaf-pki.js';
import { APISERVER_SERVICE, ETCD_CLIENT_SERVICE, memberHost } from './manifests/services.js';

export interface AllocatedAddresses {
  namespace: string;
  /** The API server Service's ClusterIP in the seed. */
  apiServerClusterIp: string;
  /** The endpoint's host (a node IP, or the load balancer's IP or name). */
  endpointHost: string;
  etcdClientIp: string;
  etcdMemberIps: readonly string[];
  /** The hosted cluster's Service range: its first address is the hosted `kubernetes` Service. */
  serviceCidr: string;
}

/** The first host address of an IPv4 CIDR (kube-apiserver gives it to the `kubernetes` Service). */
export function firstServiceIp(cidr: string): string | undefined {
  const [addr] = cidr.split('/');
  if (!addr || !isIPv4(addr)) return undefined;
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function pkiAddresses(a: AllocatedAddresses): PkiAddresses {
  const svc = (name: string) => [name, `${name}.${a.namespace}`, `${name}.${a.namespace}.svc`, `${name}.${a.namespace}.svc.cluster.local`];
  const kubernetes = firstServiceIp(a.serviceCidr);
  const apiServerSans = [
    'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local',
    ...svc(APISERVER_SERVICE), 'localhost', '127.0.0.1', a.apiServerClusterIp, a.endpointHost, ...(kubernetes ? [kubernetes] : []),
  ];
  const etcdSans = [...svc(ETCD_CLIENT_SERVICE), 'localhost', '127.0.0.1', a.etcdClientIp, ...a.etcdMemberIps, ...a.etcdMemberIps.map((_, i) => memberHost(i))];
  return { apiServerSans: [...new Set(apiServerSans)], etcdSans: [...new Set(etcdSans)], inClusterApiServer: `https://${a.apiServerClusterIp}:443` };
}
