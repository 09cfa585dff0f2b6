// One run of a kubeadm Cluster's flow over SSH, in KubeOne's order: probe every host → install the
// Release on each (binaries, CNI plugins, containerd, images, kubelet) → the bridge pod network on each →
// `kubeadm init` on the first control-plane host with the hub's CAs → the other control-plane hosts, one
// at a time → the workers → every node Ready. Every step is per host, idempotent and checks the host
// first, so a run again (an added worker, a repair, a resumed kill -9) changes only what is not right.
// The same steps join a hosted control plane's static workers (hosted-workers-reconciler.ts): probe,
// the endpoint reachable from each host, install, pod network, `kubeadm join` as a worker with only the
// token and CA hash the hub delivered, nodes Ready as each node's own kubelet credential sees it.
import { caCertHash, type Cluster, type ClusterKeys, type NodeState, type Release } from '@outpost/proto';
import { sleep, systemClock, type FlowStep, type StepRetry } from '../engine/index.js';
import type { ArtifactFetcher } from '../reconcile/reconciler.js';
import type { ClusterPlan, PlannedHost, WorkersPlan } from './cluster-plan.js';
import { containerdConfigFile, containerdConfigVersion, containerdUnit, kernelSettingsCommands, kernelSettingsFiles, kubeletKubeadmDropIn, kubeletUnit, pkiFiles, type HostFile } from './host-files.js';
import { hostPaths, type HostPaths } from './host-paths.js';
import { CONTROL_PLANE_PORTS, parseProbe, portsInUse, preflightProblems, PROBE_SCRIPT, WORKER_PORTS, type HostFacts } from './host-probe.js';
import type { HostSessions } from './host-sessions.js';
import { installPlan, type InstallPlan, type InstallStep } from './install-plan.js';
import { kubeadmInitArgv, kubeadmInitConfig, kubeadmJoinArgv, kubeadmJoinConfig, kubeletHostPatch, type KubeletSettings } from './kubeadm-config.js';
import { kubeadmImagePlan, type KubeadmImagePlan } from './kubeadm-images.js';
import { joinSecrets, type JoinSecrets } from './kubeadm/join-secrets.js';
import { assignPodCidrs, bridgeCniConfig, podNetworkScript, podNetworkUnit, type PodRouteNode } from './pod-network.js';
import type { SshSession } from './ssh/ssh-session.js';
import { shJoin, shQuote } from './ssh/shell-quote.js';
import type { UploadSlots } from './upload-slots.js';

export const DEFAULT_POD_CIDR = '10.244.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
/** Where Outpost keeps what it writes for kubeadm on a host. */
export const OUTPOST_DIR = '/var/lib/outpost';
export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
/** How long a join token made for one run stays usable on the cluster. */
const TOKEN_TTL_SECONDS = 2 * 3600;

/** A problem with a host that retrying will not fix: someone must act (the message says how). */
export class HostNotReady extends Error {
  override readonly name: string = 'HostNotReady';
  readonly retryable = false;
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`host ${host}: ${message}`);
  }
}

/** SSH drops and slow hosts pass; a step tries a few times before the run fails (and is retried with backoff). */
export const SSH_RETRY: StepRetry = { attempts: 4, baseMs: 2_000, capMs: 15_000 };

/** The prefix of the step that checks, from one host, that it reaches a hosted control plane's endpoint. */
export const ENDPOINT_STEP = 'endpoint:';

/** What every EndpointUnreachable says: a failed flow's step errors carry messages only, and this tells them. */
export const ENDPOINT_UNREACHABLE = "cannot reach the control plane's endpoint";

/** The host cannot reach the hosted control plane's endpoint: the site's network must let it (the message says so). */
export class EndpointUnreachable extends HostNotReady {
  override readonly name = 'EndpointUnreachable';
  constructor(host: string, readonly endpoint: string) {
    super(host, `${ENDPOINT_UNREACHABLE} ${endpoint} (a TCP connect from the host failed): the site's hosts must reach the seed's endpoint, so open a route and the firewall from the site to ${endpoint}, or give the Seed an endpoint the site can reach (spec.endpointServiceType LoadBalancer)`);
  }
}

interface RunInputsBase {
  cluster: Cluster;
  release: Release;
  artifacts: ArtifactFetcher;
  sessions: HostSessions;
  /** The agent's upload slots, shared by every run: the Release's artifacts go to hosts through them. */
  uploads: UploadSlots;
  /** How often a waiting step looks again. */
  pollMs: number;
  /** How long nodes may take to be Ready after their joins. */
  readyTimeoutMs: number;
  /**
   * Told before anything is written to a host (`joined` false), and before its init or join (true): the
   * agent records the host then, so a host taken out of the Cluster later is torn down whatever state it
   * was left in.
   */
  record?: (h: PlannedHost, joined: boolean) => void;
}

/**
 * A kubeadm cluster (the CAs, so init, control-plane joins and workers), or the static workers of a
 * hosted control plane (only what a worker's join needs: the token, the CA's hash, and the endpoint).
 */
export type KubeadmRunInputs = RunInputsBase & ({ plan: ClusterPlan; keys: ClusterKeys } | { plan: WorkersPlan; join: JoinSecrets; endpoint: string });

export class KubeadmRun {
  readonly paths: HostPaths = hostPaths();
  private readonly facts = new Map<string, HostFacts>();
  /** Hosts whose /etc/kubernetes/pki/ca.crt is this cluster's CA: already nodes of it. */
  private readonly members = new Set<string>();
  private podCidrs: Record<string, string> = {};
  private readonly secrets: JoinSecrets;
  readonly images: KubeadmImagePlan;
  private readonly podCidr: string;
  private readonly serviceCidr: string;
  /** The node of each host as the cluster last said (status.nodes). */
  nodes: NodeState[] = [];

  constructor(private readonly i: KubeadmRunInputs) {
    const c = i.cluster;
    this.secrets = 'keys' in i ? joinSecrets(i.keys, c.metadata.uid ?? '', c.metadata.generation ?? 0) : i.join;
    const components = i.release.spec?.components ?? {};
    this.images = kubeadmImagePlan({
      release: i.release.metadata.name ?? '',
      kubernetesVersion: c.spec?.version ?? '',
      components,
      // kubeadm's addons, where the Release brings their images.
      dns: components.coredns !== undefined,
      proxy: components['kube-proxy'] !== undefined,
    });
    this.podCidr = c.spec?.network?.podCidr || DEFAULT_POD_CIDR;
    this.serviceCidr = c.spec?.network?.serviceCidr || DEFAULT_SERVICE_CIDR;
  }

  /** The cluster's CA, by hash: a host whose /etc/kubernetes/pki/ca.crt has it is a node of this cluster. */
  get caCertHash(): string {
    return this.secrets.caCertHash;
  }

  get endpoint(): string {
    return 'keys' in this.i ? `${this.i.plan.init.address}:6443` : this.i.endpoint;
  }

  /** The kubeadm cluster's plan and CAs; a hosted control plane's workers have neither. */
  private kubeadm(): { plan: ClusterPlan; keys: ClusterKeys } {
    if (!('keys' in this.i)) throw new Error("a hosted control plane's static workers have no kubeadm control plane to init or join");
    return this.i;
  }

  steps(): FlowStep[] {
    const step = (name: string, h: PlannedHost | undefined, dependsOn: string[], timeoutMs: number, run: (signal: AbortSignal) => Promise<void>): FlowStep => ({
      name,
      dependsOn,
      timeoutMs,
      retry: SSH_RETRY,
      run,
      ...(h ? { host: h.name } : {}),
    });
    const out: FlowStep[] = [];
    const all = this.i.plan.all;
    for (const h of all) out.push(step(`probe:${h.name}`, h, [], 60_000, (s) => this.probe(h, s)));
    out.push(step('pod-cidrs', undefined, all.map((h) => `probe:${h.name}`), 60_000, (s) => this.assignPodCidrs(s)));
    for (const h of all) {
      out.push(step(`install:${h.name}`, h, [`probe:${h.name}`], 15 * 60_000, (s) => this.install(h, s)));
      out.push(step(`pod-network:${h.name}`, h, [`install:${h.name}`, 'pod-cidrs'], 60_000, (s) => this.podNetwork(h, s)));
    }
    if (!('keys' in this.i)) {
      // A hosted control plane: nothing to init; each worker joins once it reaches the endpoint.
      for (const h of all) {
        out.push({ name: `${ENDPOINT_STEP}${h.name}`, host: h.name, dependsOn: [`probe:${h.name}`], timeoutMs: 60_000, retry: { attempts: 3, baseMs: 2_000, capMs: 5_000 }, run: (s) => this.endpointReachable(h, s) });
        out.push(step(`join:${h.name}`, h, [`endpoint:${h.name}`, `install:${h.name}`, `pod-network:${h.name}`], 10 * 60_000, (s) => this.join(h, s)));
      }
      out.push({ name: 'nodes-ready', dependsOn: all.map((h) => `join:${h.name}`), timeoutMs: this.i.readyTimeoutMs, run: (s) => this.nodesReady(s) });
      return out;
    }
    const plan = this.i.plan;
    const init = plan.init;
    out.push(step(`init:${init.name}`, init, [`install:${init.name}`, `pod-network:${init.name}`], 15 * 60_000, (s) => this.initControlPlane(s)));
    // etcd grows one member at a time: each control-plane join waits for the one before it.
    let previous = `init:${init.name}`;
    for (const h of plan.controlPlane.slice(1)) {
      out.push(step(`join:${h.name}`, h, [previous, `install:${h.name}`, `pod-network:${h.name}`], 15 * 60_000, (s) => this.join(h, s)));
      previous = `join:${h.name}`;
    }
    for (const h of plan.workers) out.push(step(`join:${h.name}`, h, [`init:${init.name}`, `install:${h.name}`, `pod-network:${h.name}`], 10 * 60_000, (s) => this.join(h, s)));
    out.push({
      name: 'nodes-ready',
      dependsOn: out.filter((s) => s.name.startsWith('join:') || s.name.startsWith('init:')).map((s) => s.name),
      timeoutMs: this.i.readyTimeoutMs,
      run: (s) => this.nodesReady(s),
    });
    return out;
  }

  session(h: PlannedHost, signal: AbortSignal): Promise<SshSession> {
    return this.i.sessions.get(h.target, signal);
  }

  /**
   * What an earlier step of this run learned of a host. A run resumed from the journal (after a kill -9)
   * skips the steps it finished, and their findings died with the old process: they are learned again.
   */
  async factsOf(h: PlannedHost, signal: AbortSignal): Promise<HostFacts> {
    if (!this.facts.has(h.name)) await this.probe(h, signal);
    return this.facts.get(h.name)!;
  }

  private async allFacts(signal: AbortSignal): Promise<HostFacts[]> {
    return Promise.all(this.i.plan.all.map((h) => this.factsOf(h, signal)));
  }

  private async podCidrsOf(signal: AbortSignal): Promise<Record<string, string>> {
    if (!Object.keys(this.podCidrs).length) await this.assignPodCidrs(signal);
    return this.podCidrs;
  }

  /** OS, architecture, clock, ports; and whether the host is a node of this cluster, another, or none. */
  private async probe(h: PlannedHost, signal: AbortSignal): Promise<void> {
    const s = await this.session(h, signal);
    const sent = Date.now();
    const out = await s.run(PROBE_SCRIPT, { signal, timeoutMs: 30_000 });
    const facts = parseProbe(out, sent, Date.now());
    const problems = preflightProblems(facts);
    if (problems.length) throw new HostNotReady(h.name, problems.join('; '));
    const ca = (await s.exec('cat /etc/kubernetes/pki/ca.crt 2>/dev/null', { signal })).stdout.trim();
    // By the CA's hash: a hosted control plane's workers know no more of the CA than that.
    const ours = ca !== '' && pemCaHash(ca) === this.secrets.caCertHash;
    if (ca && !ours && facts.kubelet.joined) {
      throw new HostNotReady(h.name, 'is a node of another cluster (its /etc/kubernetes/pki/ca.crt is not this cluster\'s CA): reset it there (kubeadm reset), or take it out of this Cluster');
    }
    if (ours) this.members.add(h.name);
    else {
      const busy = portsInUse(facts, h.role === 'control-plane' ? CONTROL_PLANE_PORTS : WORKER_PORTS);
      if (busy.length) throw new HostNotReady(h.name, `ports ${busy.join(', ')} are in use, and a ${h.role} node needs them: stop what listens there (ss -ltnp)`);
    }
    this.facts.set(h.name, facts);
  }

  /**
   * Each node's slice of the pod CIDR. A node keeps the one its bridge config names (the host is the
   * record: no agent state can disagree with it); new nodes get free ones.
   */
  private async assignPodCidrs(signal: AbortSignal): Promise<void> {
    const assigned: Record<string, string> = {};
    await Promise.all(
      this.i.plan.all.map(async (h) => {
        const s = await this.session(h, signal);
        const conf = bridgeCniConfig(this.paths, { nodePodCidr: this.podCidr, clusterPodCidr: this.podCidr });
        const r = await s.exec(`cat ${shQuote(conf.path)} 2>/dev/null`, { signal });
        const subnet = /"subnet":\s*"([0-9./]+)"/.exec(r.stdout)?.[1];
        if (subnet) assigned[h.name] = subnet;
      }),
    );
    this.podCidrs = assignPodCidrs({ clusterPodCidr: this.podCidr, assigned, nodes: this.i.plan.all.map((h) => h.name) });
  }

  /** A TCP connect from the host to the hosted control plane's endpoint (bash's /dev/tcp, under timeout). */
  private async endpointReachable(h: PlannedHost, signal: AbortSignal): Promise<void> {
    if (!(await this.reaches(await this.session(h, signal), signal))) throw new EndpointUnreachable(h.name, this.endpoint);
  }

  private async reaches(s: SshSession, signal: AbortSignal): Promise<boolean> {
    const i = this.endpoint.lastIndexOf(':');
    const [host, port] = [this.endpoint.slice(0, i).replace(/^\[|\]$/g, ''), this.endpoint.slice(i + 1)];
    return (await s.exec(`timeout 5 bash -c ${shQuote(`: </dev/tcp/${host}/${port}`)}`, { signal })).code === 0;
  }

  /** Writes `file` unless the host has it byte for byte; true when it wrote. */
  private async put(s: SshSession, file: HostFile, signal: AbortSignal): Promise<boolean> {
    const current = await s.exec(`cat ${shQuote(file.path)} 2>/dev/null`, { signal });
    if (current.code === 0 && current.stdout === file.content) return false;
    await s.writeFile(file.path, { bytes: file.content }, file.mode, { signal });
    return true;
  }

  async runInstallStep(s: SshSession, step: InstallStep, signal: AbortSignal): Promise<void> {
    if (step.skipIf && (await s.exec(step.skipIf, { signal })).code === 0) return;
    if (step.kind === 'upload') await this.i.uploads.run(signal, () => s.writeFile(step.upload.to, { localPath: step.upload.from }, step.upload.mode, { signal }));
    await s.run(step.run, { signal });
  }

  /** The Release's install plan for the host's platform, every blob it uploads fetched into the agent's cache (once, for all hosts) and checked. */
  async installPlanOf(h: PlannedHost, signal: AbortSignal): Promise<InstallPlan> {
    const facts = await this.factsOf(h, signal);
    const release = this.i.release;
    const platform = `linux/${facts.arch}`;
    const artifacts = (release.spec?.artifacts ?? []).filter((a) => !a.platform || a.platform === platform);
    const local = new Map<string, string>();
    for (const a of artifacts) if (a.digest) local.set(a.digest, await this.i.artifacts.fetch(a.digest, Number(a.size ?? 0), signal));
    return installPlan({
      release: release.metadata.name ?? '',
      artifacts,
      components: release.spec?.components ?? {},
      platform,
      localPath: (digest) => local.get(digest) ?? '',
      paths: this.paths,
      aliases: this.images.aliases,
    });
  }

  /** The Release's binaries, CNI plugins and images from the agent's cache, containerd and kubelet as services. */
  private async install(h: PlannedHost, signal: AbortSignal): Promise<void> {
    const facts = await this.factsOf(h, signal);
    this.i.record?.(h, this.members.has(h.name));
    const release = this.i.release;
    const plan = await this.installPlanOf(h, signal);
    const s = await this.session(h, signal);
    await s.run(shJoin(['mkdir', '-p', OUTPOST_DIR, this.paths.stagingDir]), { signal });
    for (const step of plan.files) await this.runInstallStep(s, step, signal);
    for (const f of kernelSettingsFiles()) await this.put(s, f, signal);
    for (const c of kernelSettingsCommands()) await s.run(c, { signal });
    // containerd: the Release's where it brings one, else the host's own (a distribution's package).
    const containerd = plan.binaries.containerd ?? facts.containerd;
    if (!containerd) throw new HostNotReady(h.name, `has no containerd, and Release ${release.metadata.name} brings none: install the distribution's containerd package on the host, or add containerd to the Release`);
    const version = containerdConfigVersion(await s.run(`${shQuote(containerd)} --version`, { signal }));
    const changed = [
      await this.put(s, containerdConfigFile(this.paths, { version, sandboxImage: this.images.sandboxImage, systemdCgroup: false, restrictOomScoreAdj: !facts.canLowerOomScore }), signal),
      await this.put(s, containerdUnit(this.paths, containerd), signal),
    ].some(Boolean);
    await s.run('systemctl daemon-reload', { signal });
    await s.run(changed ? 'systemctl enable containerd && systemctl restart containerd' : 'systemctl enable containerd && systemctl start containerd', { signal });
    await this.until(signal, `containerd on ${h.name} answering`, async () => (await s.exec('ctr version >/dev/null 2>&1', { signal })).code === 0, 60_000);
    for (const step of plan.images) await this.runInstallStep(s, step, signal);
    for (const f of [kubeletUnit(this.paths), kubeletKubeadmDropIn(this.paths)]) await this.put(s, f, signal);
    await s.run('systemctl daemon-reload && systemctl enable kubelet', { signal });
  }

  /** The bridge config for the host's slice, and routes to every other node's (run now, and at boot). */
  private async podNetwork(h: PlannedHost, signal: AbortSignal): Promise<void> {
    const s = await this.session(h, signal);
    const cidrs = await this.podCidrsOf(signal);
    const nodes: PodRouteNode[] = this.i.plan.all.map((n) => ({ name: n.name, address: n.address, podCidr: cidrs[n.name]! }));
    await this.put(s, bridgeCniConfig(this.paths, { nodePodCidr: cidrs[h.name]!, clusterPodCidr: this.podCidr }), signal);
    const script = podNetworkScript(this.paths, h.name, nodes, this.podCidr);
    await this.put(s, script, signal);
    await this.put(s, podNetworkUnit(this.paths), signal);
    await s.run(`systemctl daemon-reload && systemctl enable outpost-pod-network && ${shQuote(script.path)}`, { signal });
  }

  nodeInputs(h: PlannedHost): { name: string; address: string; ignorePreflightErrors: string[] } {
    // The facts kubeadm's preflight checks that a host Outpost probed may lack for good reason: swap is
    // allowed (kubelet runs with it), and the system verification reads a kernel config a host may not ship.
    return { name: h.name, address: h.address, ignorePreflightErrors: ['Swap', 'SystemVerification', 'FileContent--proc-sys-net-bridge-bridge-nf-call-iptables'] };
  }

  /** `kubeadm init` on the first control-plane host, unless it runs this cluster's API server already. */
  private async initControlPlane(signal: AbortSignal): Promise<void> {
    const { plan, keys } = this.kubeadm();
    const h = plan.init;
    const facts = await this.allFacts(signal);
    const s = await this.session(h, signal);
    const kubeadm = `${this.paths.binDir}/kubeadm`;
    this.i.record?.(h, true);
    if (this.members.has(h.name) && (await this.apiAnswers(s, signal))) {
      await this.ensureToken(s, signal);
      return;
    }
    // A half-done init (an earlier attempt cut off) is undone first: kubeadm init needs a clean host. The
    // CAs alone may stay (kubeadm uses them; they are the ones written again below).
    const leftovers = 'ls /etc/kubernetes/manifests/*.yaml /etc/kubernetes/admin.conf /etc/kubernetes/kubelet.conf >/dev/null 2>&1 || [ -n "$(ls -A /var/lib/etcd 2>/dev/null)" ]';
    if ((await s.exec(leftovers, { signal })).code === 0) await s.run(`${shQuote(kubeadm)} reset -f`, { signal });
    for (const f of pkiFiles(keys)) await s.writeFile(f.path, { bytes: f.content }, f.mode, { signal });
    const config = `${OUTPOST_DIR}/kubeadm-init.yaml`;
    const yaml = kubeadmInitConfig({
      clusterName: this.i.cluster.metadata.name ?? '',
      images: this.images,
      controlPlaneEndpoint: this.endpoint,
      podSubnet: this.podCidr,
      serviceSubnet: this.serviceCidr,
      // One kubelet configuration for every node (kubeadm keeps it in the cluster): if any host cannot lower
      // oom_score_adj, no kubelet tries.
      kubelet: hostKubelet(facts),
      nodeCidrs: 'outpost',
      node: this.nodeInputs(h),
      bootstrapToken: { token: this.secrets.bootstrapToken, ttlSeconds: TOKEN_TTL_SECONDS },
    });
    await s.writeFile(config, { bytes: yaml }, 0o600, { signal });
    await s.run(shJoin(kubeadmInitArgv({ kubeadm, config }, { uploadCerts: false })), { signal, timeoutMs: 10 * 60_000 });
    this.members.add(h.name);
  }

  /**
   * `kubectl get nodes -o json` through the first control-plane host, or undefined when its API does not
   * answer (a cluster not made yet, or down).
   */
  async nodeList(signal: AbortSignal): Promise<string | undefined> {
    try {
      const s = await this.session(this.kubeadm().plan.init, signal);
      const r = await s.exec(shJoin([`${this.paths.binDir}/kubectl`, '--kubeconfig', ADMIN_CONF, '--request-timeout', '10s', 'get', 'nodes', '-o', 'json']), { signal, timeoutMs: 30_000 });
      return r.code === 0 ? r.stdout : undefined;
    } catch (err) {
      if (signal.aborted) throw err;
      return undefined;
    }
  }

  /** The API answers through the first control-plane host's admin kubeconfig. */
  private async apiAnswers(s: SshSession, signal: AbortSignal): Promise<boolean> {
    return (await s.exec(`${shQuote(`${this.paths.binDir}/kubectl`)} --kubeconfig ${ADMIN_CONF} get --raw /readyz --request-timeout 10s`, { signal })).stdout.trim() === 'ok';
  }

  /** This run's join token exists on the cluster (an init made it; a later run, a day after, makes it again). */
  private async ensureToken(s: SshSession, signal: AbortSignal): Promise<void> {
    const kubeadm = shQuote(`${this.paths.binDir}/kubeadm`);
    const id = this.secrets.bootstrapToken.split('.')[0]!;
    const listed = await s.run(`${kubeadm} token list --kubeconfig ${ADMIN_CONF} -o jsonpath='{.token}{"\\n"}'`, { signal });
    if (listed.split('\n').some((t) => t.startsWith(`${id}.`))) return;
    await s.run(`${kubeadm} token create ${shQuote(this.secrets.bootstrapToken)} --ttl ${TOKEN_TTL_SECONDS}s --kubeconfig ${ADMIN_CONF}`, { signal });
  }

  /** `kubeadm join` of a control-plane member or a worker, unless the host is a node of this cluster and its kubelet runs. */
  private async join(h: PlannedHost, signal: AbortSignal): Promise<void> {
    const facts = await this.factsOf(h, signal);
    const s = await this.session(h, signal);
    const kubeadm = `${this.paths.binDir}/kubeadm`;
    this.i.record?.(h, true);
    if (this.members.has(h.name) && (await s.exec('test -e /etc/kubernetes/kubelet.conf', { signal })).code === 0) {
      // A node of this cluster: a kubelet that was stopped or killed is started again (a repair).
      await s.run('systemctl start kubelet', { signal });
      return;
    }
    // Not a node, or a broken one (its kubelet config gone, a join cut off): kubeadm join wants an empty
    // /etc/kubernetes, so whatever is left there is reset first.
    if ((await s.exec('[ -n "$(ls -A /etc/kubernetes 2>/dev/null)" ] || [ -e /var/lib/kubelet/config.yaml ]', { signal })).code === 0) {
      await s.run(`${shQuote(kubeadm)} reset -f`, { signal });
    }
    if (h.role === 'control-plane') for (const f of pkiFiles(this.kubeadm().keys)) await s.writeFile(f.path, { bytes: f.content }, f.mode, { signal });
    const config = `${OUTPOST_DIR}/kubeadm-join.yaml`;
    // A hosted control plane's cluster knows nothing of this host: what the host needs (the cgroup driver
    // of the containerd written here, swap, oom score) goes in as a patch of the cluster's kubelet settings.
    const patchesDir = 'keys' in this.i ? undefined : `${OUTPOST_DIR}/kubeadm-patches`;
    if (patchesDir) {
      const patch = kubeletHostPatch(hostKubelet([facts]));
      await s.run(shJoin(['mkdir', '-p', patchesDir]), { signal });
      await s.writeFile(`${patchesDir}/${patch.name}`, { bytes: patch.content }, 0o600, { signal });
    }
    const yaml = kubeadmJoinConfig({
      ...(patchesDir ? { patchesDir } : {}),
      node: this.nodeInputs(h),
      apiServerEndpoint: this.endpoint,
      token: this.secrets.bootstrapToken,
      caCertHashes: [this.secrets.caCertHash],
      ...(h.role === 'control-plane' ? { controlPlane: {} } : {}),
    });
    await s.writeFile(config, { bytes: yaml }, 0o600, { signal });
    await s.run(shJoin(kubeadmJoinArgv({ kubeadm, config })), { signal, timeoutMs: 10 * 60_000 });
    this.members.add(h.name);
  }

  /** Waits until every host's node is Ready; status.nodes says each one's state and version meanwhile. */
  private async nodesReady(signal: AbortSignal): Promise<void> {
    if (!('keys' in this.i)) return this.workersReady(signal);
    const s = await this.session(this.i.plan.init, signal);
    const kubectl = shQuote(`${this.paths.binDir}/kubectl`);
    await this.until(signal, 'every node Ready', async () => {
      const r = await s.exec(`${kubectl} --kubeconfig ${ADMIN_CONF} get nodes -o json --request-timeout 10s`, { signal });
      if (r.code !== 0) return false;
      this.nodes = nodeStates(r.stdout, this.i.plan);
      return this.nodes.every((n) => n.state === 'Ready');
    }, this.i.readyTimeoutMs);
  }

  /**
   * A hosted control plane's workers: each node as its own kubelet's credential reads it (the site agent
   * holds no credential of that cluster; the Node authorizer lets a node read its Node).
   */
  private async workersReady(signal: AbortSignal): Promise<void> {
    const kubectl = shQuote(`${this.paths.binDir}/kubectl`);
    const plan = this.i.plan;
    await this.until(signal, 'every worker Ready', async () => {
      const items = await Promise.all(plan.all.map(async (h) => {
        const s = await this.session(h, signal);
        const r = await s.exec(`${kubectl} --kubeconfig /etc/kubernetes/kubelet.conf get node ${shQuote(h.name)} -o json --request-timeout 10s`, { signal });
        if (r.code === 0) return [JSON.parse(r.stdout) as NodeList['items'][number]];
        // Cut off from the endpoint since its join: waiting would not bring the node, and the operator must act.
        if (!(await this.reaches(s, signal))) throw new EndpointUnreachable(h.name, this.endpoint);
        return [];
      }));
      this.nodes = nodeStates(JSON.stringify({ items: items.flat() }), plan);
      return this.nodes.every((n) => n.state === 'Ready');
    }, this.i.readyTimeoutMs);
  }

  async until(signal: AbortSignal, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
      await sleep(systemClock, this.i.pollMs, signal);
    }
  }
}

interface NodeList {
  items: Array<{ metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }>; nodeInfo?: { kubeletVersion?: string } } }>;
}

/** Each planned host's node as `kubectl get nodes -o json` says: Ready, NotReady, or Absent (not registered). */
export function nodeStates(json: string, plan: Pick<ClusterPlan, 'all'>): NodeState[] {
  const items = (JSON.parse(json) as NodeList).items;
  return plan.all.map((h) => {
    const n = items.find((i) => i.metadata.name === h.name);
    const ready = n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return { host: h.name, role: h.role, state: !n ? 'Absent' : ready ? 'Ready' : 'NotReady', version: n?.status?.nodeInfo?.kubeletVersion ?? '' };
  });
}

/** The CA hash of a PEM a host holds; empty when it is not a certificate (so it is nobody's CA). */
export function pemCaHash(pem: string): string {
  try {
    return caCertHash(pem);
  } catch {
    return '';
  }
}

/** The kubelet settings `hosts` need: cgroupfs (the containerd config written here), swap allowed, oom_score_adj 0 if any host cannot lower it. */
function hostKubelet(hosts: readonly HostFacts[]): KubeletSettings {
  return { cgroupDriver: 'cgroupfs', swap: 'NoSwap', ...(hosts.some((f) => !f.canLowerOomScore) ? { oomScoreAdj: 0 } : {}) };
}
