// Seed mode: hosted control planes through the seed's Kubernetes API. Re-exports only.
export { HostedClusterReconciler, namespaceOf, type HostedClusterOptions } from './hosted-cluster-reconciler.js';
export { controlPlaneLabels, controlPlaneNamespace, CLUSTER_LABEL, PROJECT_LABEL } from './namespace-name.js';
export { FIELD_MANAGER, KubeSeedApi, type SeedApi, type SeedNamespace } from './seed-api.js';
export { SeedWatch, type DriftWatch, type SeedWatchOptions } from './seed-watch.js';
export { seedKubeConfig, type SeedKubeConfigInput } from './seed-kubeconfig.js';
export { NamespaceTakenError, SeedConfigError, SeedUnreachableError } from './errors.js';
