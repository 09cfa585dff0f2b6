// Site mode: kubeadm over SSH on a site's Hosts, run by the site's agent.
export * from './ssh/index.js';
