// Resource builders for tests: the manifest, and a whole site with one of everything.
const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
const obj = (kind: string, name: string, spec: object, namespace?: string) => ({ apiVersion: 'outpost.dev/v1alpha1', kind, metadata: meta(name, namespace), spec });

export const project = (name: string) => obj('Project', name, {});
export const site = (name: string) => obj('Site', name, { location: `${name} location` });
export const seed = (name: string) => obj('Seed', name, { location: `${name} location` });
export const datacenter = (name: string, servedBy: { site?: string; seed?: string }) => obj('Datacenter', name, { provider: 'edge', ...servedBy });
export const host = (name: string, siteName: string, address = '10.213.0.10') => obj('Host', name, { site: siteName, address, sshPort: 22, sshUser: 'root' });
export const sshKey = (name: string, projectName: string) => obj('SSHKey', name, { publicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${name.replace(/[^a-z0-9]/g, '')} ${name}@test` }, projectName);
export const cluster = (name: string, projectName: string, dc: string, opts: { mode?: string; keys?: string[]; version?: string } = {}) =>
  obj('Cluster', name, { version: opts.version ?? '1.33.0', datacenter: dc, controlPlane: { mode: opts.mode ?? 'kubeadm', replicas: 1 }, sshKeys: opts.keys ?? [] }, projectName);
export const release = (version: string) => obj('Release', version, { version });

/** Everything a site "x" can hold: site, datacenter, host, key, cluster (in project p). */
export function siteWorld(x: string, projectName = 'p') {
  return [site(x), datacenter(`dc-${x}`, { site: x }), host(`host-${x}`, x), sshKey(`key-${x}`, projectName), cluster(`cl-${x}`, projectName, `dc-${x}`, { keys: [`key-${x}`] })];
}
