// Site mode: kubeadm over SSH on a site's Hosts, run by the site's agent.
export * from './ssh/index.js';
export { describeFacts, parseProbe, portsInUse, preflightProblems, PROBE_SCRIPT, ProbeParseError, CONTROL_PLANE_PORTS, WORKER_PORTS, type HostFacts } from './host-probe.js';
export { HOST_CONDITIONS, HostReconciler, type HostReconcilerOptions } from './host-reconciler.js';
export { sshTargetOf } from './host-target.js';

// The pure generators the flow calls: what to write on a host and what to run there.
export type { ShellCommand } from './shell-command.js';
export { ArtifactsMissingError, SiteInputError, SiteReleaseError } from './errors.js';
export { DEFAULT_HOST_PATHS, hostPaths, type HostPaths } from './host-paths.js';
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
