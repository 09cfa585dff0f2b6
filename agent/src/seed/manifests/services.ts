// The Services of a hosted control plane: the API server's endpoint (NodePort or LoadBalancer), etcd's
// headless Service (the StatefulSet's), its client Service, and one Service per etcd member so members
// find each other by a fixed address even on a seed without cluster DNS. Pure.
import type { V1Service } from '@kubernetes/client-node';
import type { EndpointServiceType } from '../control-plane-inputs.js';
import { meta, selectorOf, type ManifestContext } from './common.js';

export const APISERVER_SERVICE = 'kube-apiserver';
export const APISERVER_PORT = 6443;
export const ETCD_HEADLESS_SERVICE = 'etcd';
export const ETCD_CLIENT_SERVICE = 'etcd-client';
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_STATEFULSET = 'etcd';

/** The name a member's peers know it by (its pod name plus this), mapped to its Service's IP in every etcd pod's /etc/hosts. */
export const memberHost = (i: number): string => `${ETCD_STATEFULSET}-${i}.etcd-peer`;
export const memberService = (i: number): string => `${ETCD_STATEFULSET}-${i}`;

export function apiServerService(ctx: ManifestContext, type: EndpointServiceType): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, APISERVER_SERVICE, 'kube-apiserver'),
    spec: { type, selector: selectorOf('kube-apiserver'), ports: [{ name: 'https', port: 443, targetPort: APISERVER_PORT, protocol: 'TCP' }] },
  };
}

export function etcdServices(ctx: ManifestContext, replicas: number): V1Service[] {
  const ports = [
    { name: 'client', port: ETCD_CLIENT_PORT, targetPort: ETCD_CLIENT_PORT, protocol: 'TCP' },
    { name: 'peer', port: ETCD_PEER_PORT, targetPort: ETCD_PEER_PORT, protocol: 'TCP' },
  ];
  const members: V1Service[] = Array.from({ length: replicas }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, memberService(i), 'etcd'),
    // A member must be reachable before it is ready: it is not ready until it has found its peers.
    spec: { selector: { ...selectorOf('etcd'), 'statefulset.kubernetes.io/pod-name': `${ETCD_STATEFULSET}-${i}` }, publishNotReadyAddresses: true, ports },
  }));
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: meta(ctx, ETCD_HEADLESS_SERVICE, 'etcd'), spec: { clusterIP: 'None', selector: selectorOf('etcd'), publishNotReadyAddresses: true, ports } },
    { apiVersion: 'v1', kind: 'Service', metadata: meta(ctx, ETCD_CLIENT_SERVICE, 'etcd'), spec: { selector: selectorOf('etcd'), ports: [ports[0]!] } },
    ...members,
  ];
}
