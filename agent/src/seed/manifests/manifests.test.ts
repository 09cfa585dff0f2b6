// The manifests of a hosted control plane, as the agent applies them. Pure.
import { describe, expect, it } from 'vitest';
import { apiServerDeployment } from './apiserver.js';
import { CERTS_HASH_ANNOTATION, type ManifestContext } from './common.js';
import { controllerManagerDeployment, schedulerDeployment } from './controllers.js';
import { etcdDisruptionBudget, etcdStatefulSet } from './etcd.js';
import { apiServerService, etcdServices } from './services.js';

const m: ManifestContext = { namespace: 'cluster-p-c1', labels: { 'outpost.dev/project': 'p', 'outpost.dev/cluster': 'c1' } };
const args = (o: { spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } } }) => o.spec?.template?.spec?.containers?.[0]?.args ?? [];

describe('etcd', () => {
  const etcd = (replicas: 1 | 3, persistent: boolean) => etcdStatefulSet(m, { image: 'e:1', replicas, memberIps: ['10.0.0.1', '10.0.0.2', '10.0.0.3'].slice(0, replicas), persistent, certsHash: 'h1' });

  it('keeps its data on a PVC when the seed has a default StorageClass, else on an emptyDir', () => {
    const pvc = etcd(1, true);
    expect(pvc.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests).toEqual({ storage: '1Gi' });
    expect(pvc.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(['pki']);
    const empty = etcd(1, false);
    expect(empty.spec?.volumeClaimTemplates).toBeUndefined();
    expect(empty.spec?.template.spec?.volumes?.find((v) => v.name === 'data')?.emptyDir).toEqual({});
  });

  it('makes 3 members that find each other by fixed names, TLS for clients and peers', () => {
    const st = etcd(3, false);
    expect(st.spec?.replicas).toBe(3);
    expect(st.spec?.podManagementPolicy).toBe('Parallel');
    expect(args(st)).toContain('--initial-cluster=etcd-0=https://etcd-0.etcd-peer:2380,etcd-1=https://etcd-1.etcd-peer:2380,etcd-2=https://etcd-2.etcd-peer:2380');
    expect(st.spec?.template.spec?.hostAliases).toEqual([{ ip: '10.0.0.1', hostnames: ['etcd-0.etcd-peer'] }, { ip: '10.0.0.2', hostnames: ['etcd-1.etcd-peer'] }, { ip: '10.0.0.3', hostnames: ['etcd-2.etcd-peer'] }]);
    for (const flag of ['--client-cert-auth=true', '--peer-client-cert-auth=true', '--listen-client-urls=https://0.0.0.0:2379']) expect(args(st)).toContain(flag);
    // Its certificates mounted whole: kubelet updates a Secret volume in place, never a subPath mount.
    expect(st.spec?.template.metadata?.annotations?.[CERTS_HASH_ANNOTATION]).toBe('h1');
    const mount = st.spec?.template.spec?.containers[0]?.volumeMounts?.find((v) => v.name === 'pki');
    expect(mount).toMatchObject({ mountPath: '/etc/outpost/pki' });
    expect(mount?.subPath).toBeUndefined();
    expect(st.spec?.template.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(etcdDisruptionBudget(m).spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'outpost.dev/component': 'etcd' } } });
  });

  it('has a headless Service, a client Service and one reachable-before-ready Service per member', () => {
    const svcs = etcdServices(m, 3);
    expect(svcs.map((s) => s.metadata?.name)).toEqual(['etcd', 'etcd-client', 'etcd-0', 'etcd-1', 'etcd-2']);
    expect(svcs[0]?.spec?.clusterIP).toBe('None');
    expect(svcs[3]?.spec?.selector?.['statefulset.kubernetes.io/pod-name']).toBe('etcd-1');
    expect(svcs[3]?.spec?.publishNotReadyAddresses).toBe(true);
    for (const s of svcs) expect(s.metadata?.labels).toMatchObject(m.labels);
  });
});

describe('kube-apiserver', () => {
  const d = apiServerDeployment(m, { image: 'a:1', replicas: 1, etcdServers: ['https://10.0.0.9:2379'], serviceCidr: '10.96.0.0/12', certsHash: 'h2' });

  it('talks to etcd over TLS, signs service-account tokens with the delivered key, and serves the front proxy', () => {
    for (const flag of ['--etcd-servers=https://10.0.0.9:2379', '--etcd-certfile=/etc/outpost/pki/etcd-client.crt', '--service-account-signing-key-file=/etc/outpost/pki/sa.key', '--service-account-key-file=/etc/outpost/pki/sa.pub', '--requestheader-client-ca-file=/etc/outpost/pki/front-proxy-ca.crt', '--proxy-client-cert-file=/etc/outpost/pki/front-proxy-client.crt', '--secure-port=6443', '--service-cluster-ip-range=10.96.0.0/12', '--client-ca-file=/etc/outpost/pki/ca.crt']) expect(args(d)).toContain(flag);
  });

  it('rolls with a surge pod and none unavailable, when its certificates change', () => {
    expect(d.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(d.spec?.template.metadata?.annotations?.[CERTS_HASH_ANNOTATION]).toBe('h2');
    expect(d.spec?.template.spec?.containers[0]?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 6443, scheme: 'HTTPS' });
    // A busy seed is slow to answer: probes wait 5 s, and a new pod must stay ready 5 s before the old one goes.
    for (const p of ['readinessProbe', 'startupProbe', 'livenessProbe'] as const) expect(d.spec?.template.spec?.containers[0]?.[p]?.timeoutSeconds).toBe(5);
    expect(d.spec?.minReadySeconds).toBe(5);
  });

  it('is reached through a NodePort Service, or a LoadBalancer when the Seed says so', () => {
    expect(apiServerService(m, 'NodePort').spec).toMatchObject({ type: 'NodePort', ports: [{ port: 443, targetPort: 6443 }] });
    expect(apiServerService(m, 'LoadBalancer').spec?.type).toBe('LoadBalancer');
  });
});

describe('kube-controller-manager and kube-scheduler', () => {
  it('elect a leader and read their kubeconfig from their own Secret', () => {
    const kcm = controllerManagerDeployment(m, { image: 'k:1', serviceCidr: '10.96.0.0/12', certsHash: 'h3' });
    const sched = schedulerDeployment(m, { image: 's:1', certsHash: 'h4' });
    for (const [d, secret] of [[kcm, 'kube-controller-manager-certs'], [sched, 'kube-scheduler-certs']] as const) {
      expect(args(d)).toContain('--leader-elect=true');
      expect(args(d)).toContain('--kubeconfig=/etc/outpost/pki/kubeconfig');
      expect(d.spec?.template.spec?.volumes?.[0]?.secret?.secretName).toBe(secret);
      expect(d.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    }
    expect(args(kcm)).toContain('--cluster-signing-key-file=/etc/outpost/pki/ca.key');
    expect(args(kcm)).toContain('--use-service-account-credentials=true');
  });
});
