// The leaf certificates signed from a cluster's CAs: what each is for, and when one is kept or signed again.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { ClusterKeys } from '@outpost/proto';
import { createCa } from '@outpost/proto/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { APISERVER_SECRET, buildLeafPki, CONTROLLER_MANAGER_SECRET, ETCD_SECRET, rollHash, SCHEDULER_SECRET, type PkiAddresses } from './leaf-pki.js';
import { firstServiceIp, pkiAddresses } from './pki-addresses.js';

let keys: ClusterKeys;
beforeAll(async () => {
  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const [ca, frontProxyCa, etcdCa] = await Promise.all([createCa('kubernetes'), createCa('front-proxy-ca'), createCa('etcd-ca')]);
  keys = { ca, frontProxyCa, etcdCa, serviceAccount: { publicKeyPem: sa.publicKey, privateKeyPem: sa.privateKey } };
});

const addresses: PkiAddresses = pkiAddresses({ namespace: 'cluster-p-c1', apiServerClusterIp: '10.96.3.70', endpointHost: '10.214.1.2', etcdClientIp: '10.96.3.213', etcdMemberIps: ['10.96.3.229'], serviceCidr: '10.96.0.0/12' });
const DAY = 86_400_000;
const cert = (pem: string | undefined) => new X509Certificate(pem ?? '');

describe('buildLeafPki', () => {
  it('signs each leaf with its CA, for its use, naming every address it is reached at', async () => {
    const out = await buildLeafPki({ keys, addresses, lifetimeMs: 365 * DAY, now: new Date(), existing: {} });
    expect(out.signed).toBe(8);
    const api = out.secrets[APISERVER_SECRET]!;
    const serving = cert(api['apiserver.crt']);
    expect(serving.checkIssued(new X509Certificate(keys.ca.certPem))).toBe(true);
    for (const san of ['IP Address:10.96.3.70', 'IP Address:10.214.1.2', 'IP Address:10.96.0.1', 'DNS:kubernetes.default.svc', 'DNS:kube-apiserver.cluster-p-c1.svc']) expect(serving.subjectAltName).toContain(san);
    expect(serving.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert(api['etcd-client.crt']).checkIssued(new X509Certificate(keys.etcdCa.certPem))).toBe(true);
    expect(cert(api['front-proxy-client.crt']).subject).toBe('CN=front-proxy-client');
    expect(cert(api['front-proxy-client.crt']).checkIssued(new X509Certificate(keys.frontProxyCa.certPem))).toBe(true);
    expect(cert(api['kubelet-client.crt']).subject).toBe('O=system:masters\nCN=kube-apiserver-kubelet-client');
    // etcd's certificates serve and are clients of the peers, naming each member.
    const peer = cert(out.secrets[ETCD_SECRET]!['peer.crt']);
    expect(peer.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(peer.subjectAltName).toContain('DNS:etcd-0.etcd-peer');
    expect(peer.subjectAltName).toContain('IP Address:10.96.3.213');
    // The controllers' kubeconfigs reach the API server inside the seed, as kubeadm's users.
    const kcm = JSON.parse(out.secrets[CONTROLLER_MANAGER_SECRET]!.kubeconfig!) as { clusters: { cluster: { server: string } }[]; users: { name: string }[] };
    expect(kcm.clusters[0]?.cluster.server).toBe('https://10.96.3.70:443');
    expect(cert(out.secrets[SCHEDULER_SECRET]!['client.crt']).subject).toBe('CN=system:kube-scheduler');
    expect(cert(out.secrets[CONTROLLER_MANAGER_SECRET]!['client.crt']).subject).toBe('CN=system:kube-controller-manager');
    // The CA's key goes to the controller-manager (the CSR signer) only; no admin credential anywhere.
    expect(Object.entries(out.secrets).filter(([, d]) => d['ca.key']).map(([n]) => n)).toEqual([CONTROLLER_MANAGER_SECRET]);
    expect(Object.values(out.secrets).flatMap((d) => Object.entries(d)).filter(([k, v]) => k.endsWith('.crt') && v.includes('BEGIN CERTIFICATE') && cert(v).subject.includes('system:masters')).map(([k]) => k)).toEqual(['kubelet-client.crt']);
    // Valid for the lifetime asked (and from a minute before, for a peer whose clock is behind).
    const life = serving.validToDate.getTime() - serving.validFromDate.getTime();
    expect(Math.abs(life - (365 * DAY + 60_000))).toBeLessThan(2_000);
  });

  it('keeps every leaf that is still good, so a second run changes nothing', async () => {
    const now = new Date();
    const first = await buildLeafPki({ keys, addresses, lifetimeMs: 30 * DAY, now, existing: {} });
    const again = await buildLeafPki({ keys, addresses, lifetimeMs: 30 * DAY, now: new Date(now.getTime() + 10 * DAY), existing: first.secrets });
    expect(again.signed).toBe(0);
    expect(again.secrets).toEqual(first.secrets);
    expect(again.hashes).toEqual(first.hashes);
    expect(Math.abs(again.renewAt.getTime() - (now.getTime() + 20 * DAY))).toBeLessThan(120_000);
  });

  it('signs again what is past 2/3 of its life, what names other addresses, and what another CA signed', async () => {
    const now = new Date();
    const first = await buildLeafPki({ keys, addresses, lifetimeMs: 30 * DAY, now, existing: {} });
    const late = await buildLeafPki({ keys, addresses, lifetimeMs: 30 * DAY, now: new Date(now.getTime() + 21 * DAY), existing: first.secrets });
    expect(late.signed).toBe(8);
    // Every Secret's content changed; only the controller-manager's and scheduler's (inline kubeconfigs) roll their pods.
    for (const name of [ETCD_SECRET, APISERVER_SECRET, CONTROLLER_MANAGER_SECRET, SCHEDULER_SECRET]) expect(late.contentHashes[name]).not.toBe(first.contentHashes[name]);
    expect(late.hashes[ETCD_SECRET]).toBe(first.hashes[ETCD_SECRET]);
    expect(late.hashes[APISERVER_SECRET]).toBe(first.hashes[APISERVER_SECRET]);
    expect(late.hashes[CONTROLLER_MANAGER_SECRET]).not.toBe(first.hashes[CONTROLLER_MANAGER_SECRET]);
    expect(late.hashes[SCHEDULER_SECRET]).not.toBe(first.hashes[SCHEDULER_SECRET]);

    const moved = await buildLeafPki({ keys, addresses: { ...addresses, apiServerSans: [...addresses.apiServerSans, '10.214.9.2'] }, lifetimeMs: 30 * DAY, now, existing: first.secrets });
    expect(moved.signed).toBe(1);
    expect(moved.contentHashes[ETCD_SECRET]).toBe(first.contentHashes[ETCD_SECRET]);
    expect(moved.contentHashes[APISERVER_SECRET]).not.toBe(first.contentHashes[APISERVER_SECRET]);

    // What a component reads once (a CA) is in the hash that rolls it.
    const withCa = { ...first.secrets[ETCD_SECRET]!, 'ca.crt': 'another CA' };
    expect(rollHash(ETCD_SECRET, withCa)).not.toBe(first.hashes[ETCD_SECRET]);

    const otherEtcdCa = { ...keys, etcdCa: await createCa('etcd-ca') };
    const rekeyed = await buildLeafPki({ keys: otherEtcdCa, addresses, lifetimeMs: 30 * DAY, now, existing: first.secrets });
    expect(rekeyed.signed).toBe(3);
    expect(cert(rekeyed.secrets[ETCD_SECRET]!['server.crt']).checkIssued(new X509Certificate(otherEtcdCa.etcdCa.certPem))).toBe(true);
  });

  it('takes the hosted `kubernetes` Service address from the first of its range', () => {
    expect(firstServiceIp('10.96.0.0/12')).toBe('10.96.0.1');
    expect(firstServiceIp('172.20.255.0/24')).toBe('172.20.255.1');
    expect(firstServiceIp('fd00::/108')).toBeUndefined();
  });
});
