// How a seed agent reaches its seed: the kubeconfig it was given, or, run as a pod in the seed, the pod's
// own service account (in-cluster config). A site agent has no seed and takes no kubeconfig.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { SeedConfigError } from './errors.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface SeedKubeConfigInput {
  /** The agent's view, "seed/<name>" or "site/<name>" (identity.json). */
  view: string;
  /** `outpost-agent run --kubeconfig FILE`. */
  kubeconfig?: string | undefined;
  /** The process's environment: a pod has KUBERNETES_SERVICE_HOST and _PORT. */
  env: NodeJS.ProcessEnv;
}

/** The seed's KubeConfig for a seed agent, undefined for a site agent; a setup that cannot work throws SeedConfigError. */
export function seedKubeConfig(input: SeedKubeConfigInput): KubeConfig | undefined {
  const seed = input.view.startsWith('seed/');
  if (!seed) {
    if (input.kubeconfig !== undefined) throw new SeedConfigError(`--kubeconfig is for a Seed's agent, and this agent serves ${input.view}: a Site's agent works on its hosts over SSH. Drop --kubeconfig`);
    return undefined;
  }
  const kc = new KubeConfig();
  if (input.kubeconfig !== undefined) {
    if (!existsSync(input.kubeconfig)) throw new SeedConfigError(`--kubeconfig ${input.kubeconfig}: no such file; give the kubeconfig of the seed's Kubernetes API`);
    try {
      kc.loadFromFile(input.kubeconfig);
    } catch (err) {
      throw new SeedConfigError(`--kubeconfig ${input.kubeconfig} is not a kubeconfig: ${(err as Error).message}`, { cause: err });
    }
    if (!kc.getCurrentCluster()) throw new SeedConfigError(`--kubeconfig ${input.kubeconfig} names no current cluster; set current-context to the seed's`);
    return kc;
  }
  if (input.env.KUBERNETES_SERVICE_HOST) {
    // client-node reads the token only on the first call: check it now, where the failure is clear.
    if (!existsSync(SERVICE_ACCOUNT_TOKEN)) throw new SeedConfigError(`running in a pod (KUBERNETES_SERVICE_HOST is set), but it has no service-account token at ${SERVICE_ACCOUNT_TOKEN}; deploy the agent with deploy/seed-agent (automountServiceAccountToken), or pass --kubeconfig`);
    kc.loadFromCluster();
    return kc;
  }
  throw new SeedConfigError(`this agent serves ${input.view} and needs that seed's Kubernetes API: pass --kubeconfig FILE, or run it as a pod in the seed (deploy/seed-agent)`);
}
