// Site mode: kubeadm over SSH on a site's Hosts, run by the site's agent.
export * from './ssh/index.js';
export { describeFacts, parseProbe, portsInUse, preflightProblems, PROBE_SCRIPT, ProbeParseError, CONTROL_PLANE_PORTS, WORKER_PORTS, type HostFacts } from './host-probe.js';
export { HOST_CONDITIONS, HostReconciler, type HostReconcilerOptions } from './host-reconciler.js';
export { sshTargetOf } from './host-target.js';
