// Site mode: kubeadm clusters on site hosts over SSH. Re-exports only. These are the pure generators
// the flow calls: what to write on a host and what to run there.
export { ArtifactsMissingError, SiteInputError, SiteReleaseError } from './errors.js';
export { DEFAULT_HOST_PATHS, hostPaths, type HostPaths } from './host-paths.js';
export { shellJoin, shellQuote, type ShellCommand } from './shell-quote.js';
export { KUBEADM_PAUSE_TAGS, kubeadmImagePlan, listedPauseTag, type ImageAlias, type ImageOverride, type KubeadmImageInputs, type KubeadmImagePlan } from './kubeadm-images.js';
export {
  CONTAINERD_SOCKET,
  DEFAULT_BIND_PORT,
  DEFAULT_DNS_DOMAIN,
  KUBEADM_API,
  kubeadmInitArgv,
  kubeadmInitConfig,
  kubeadmJoinArgv,
  kubeadmJoinConfig,
  newBootstrapToken,
  newCertificateKey,
  type BootstrapTokenInputs,
  type CgroupDriver,
  type KubeadmClusterInputs,
  type KubeadmCommandPaths,
  type KubeadmInitInputs,
  type KubeadmJoinInputs,
  type KubeletSettings,
  type NodeInputs,
} from './kubeadm-config.js';
export {
  containerdConfigFile,
  containerdConfigToml,
  containerdConfigVersion,
  containerdUnit,
  kernelSettingsCommands,
  kernelSettingsFiles,
  KERNEL_MODULES,
  KUBEADM_PKI_DIR,
  kubeletKubeadmDropIn,
  kubeletUnit,
  pkiFiles,
  SYSCTLS,
  type ContainerdConfigInputs,
  type ContainerdConfigVersion,
  type HostFile,
} from './host-files.js';
export {
  assignPodCidrs,
  bridgeCniConfig,
  DEFAULT_NODE_PREFIX,
  POD_BRIDGE,
  POD_NETWORK_NAME,
  podEgressCommands,
  podNetworkScript,
  podNetworkUnit,
  podRouteCommands,
  type BridgeCniInputs,
  type PodCidrAssignmentInputs,
  type PodRouteNode,
} from './pod-network.js';
export { installPlan, type CommandStep, type InstallPlan, type InstallPlanInputs, type InstallStep, type ReleaseArtifact, type Upload, type UploadStep } from './install-plan.js';
