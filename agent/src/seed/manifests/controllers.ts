// kube-controller-manager and kube-scheduler as Deployments, each with the kubeconfig in its Secret and
// leader election on, so a surge pod during a roll waits for the lease rather than acting twice. Pure.
import type { V1Deployment } from '@kubernetes/client-node';
import { CONTROLLER_MANAGER_SECRET, SCHEDULER_SECRET } from '../leaf-pki.js';
import { CERTS_HASH_ANNOTATION, certsVolume, container, meta, NO_DOWNTIME, pki, selectorOf, type ManifestContext } from './common.js';

export const CONTROLLER_MANAGER_DEPLOYMENT = 'kube-controller-manager';
export const SCHEDULER_DEPLOYMENT = 'kube-scheduler';
export const CONTROLLER_MANAGER_PORT = 10257;
export const SCHEDULER_PORT = 10259;

export interface ControllerManifestInput {
  image: string;
  certsHash: string;
}

function deployment(ctx: ManifestContext, name: string, secret: string, port: number, i: ControllerManifestInput, args: string[]): V1Deployment {
  const certs = certsVolume(secret);
  const kubeconfig = pki('kubeconfig');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(ctx, name, name),
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorOf(name) },
      strategy: NO_DOWNTIME,
      template: {
        metadata: { labels: { ...ctx.labels, ...selectorOf(name) }, annotations: { [CERTS_HASH_ANNOTATION]: i.certsHash } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            container(name, i.image, [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`, '--leader-elect=true', '--bind-address=0.0.0.0', `--secure-port=${port}`, ...args, '--v=1'], {
              ports: [{ name: 'https', containerPort: port }],
              // /healthz is always allowed (--authorization-always-allow-paths' default).
              // 5 s timeouts, not kubelet's 1 s: a busy seed answers slower than that (manifests/apiserver.ts).
              readinessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTPS' }, periodSeconds: 2, failureThreshold: 3, timeoutSeconds: 5 },
              livenessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTPS' }, initialDelaySeconds: 15, periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 5 },
              volumeMounts: [certs.mount],
            }),
          ],
          volumes: [certs.volume],
        },
      },
    },
  };
}

export function controllerManagerDeployment(ctx: ManifestContext, i: ControllerManifestInput & { serviceCidr: string }): V1Deployment {
  return deployment(ctx, CONTROLLER_MANAGER_DEPLOYMENT, CONTROLLER_MANAGER_SECRET, CONTROLLER_MANAGER_PORT, i, [
    `--service-account-private-key-file=${pki('sa.key')}`, `--root-ca-file=${pki('ca.crt')}`,
    `--cluster-signing-cert-file=${pki('ca.crt')}`, `--cluster-signing-key-file=${pki('ca.key')}`,
    '--use-service-account-credentials=true', '--controllers=*,bootstrapsigner,tokencleaner',
    `--service-cluster-ip-range=${i.serviceCidr}`, `--cluster-name=${ctx.namespace}`,
  ]);
}

export function schedulerDeployment(ctx: ManifestContext, i: ControllerManifestInput): V1Deployment {
  return deployment(ctx, SCHEDULER_DEPLOYMENT, SCHEDULER_SECRET, SCHEDULER_PORT, i, []);
}
