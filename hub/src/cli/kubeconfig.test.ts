import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { hubKubeconfig } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
type Kubeconfig = { clusters: Array<{ name: string; cluster: Record<string, string> }>; users: Array<{ name: string; user: Record<string, string> }>; contexts: Array<{ name: string; context: Record<string, string> }>; 'current-context': string };

describe('hubKubeconfig', () => {
  it('points kubectl at the logged-in hub, trusting its CA, with the login token', () => {
    const k = YAML.parse(hubKubeconfig({ hub: 'https://hub.example:8443', token: 'abc123.secret', caCert: CA })) as Kubeconfig;
    expect(k.clusters).toEqual([{ name: 'outpost-hub.example', cluster: { server: 'https://hub.example:8443', 'certificate-authority-data': Buffer.from(CA).toString('base64') } }]);
    expect(k.users).toEqual([{ name: 'outpost-hub.example', user: { token: 'abc123.secret' } }]);
    expect(k.contexts).toEqual([{ name: 'outpost-hub.example', context: { cluster: 'outpost-hub.example', user: 'outpost-hub.example' } }]);
    expect(k['current-context']).toBe('outpost-hub.example');
  });

  it('takes a name and a default project, and names an IPv6 hub without brackets', () => {
    const k = YAML.parse(hubKubeconfig({ hub: 'https://[::1]:8443', token: 't', caCert: CA }, { project: 'demo' })) as Kubeconfig;
    expect(k.clusters[0]!.name).toBe('outpost-::1');
    expect(k.clusters[0]!.cluster.server).toBe('https://[::1]:8443');
    expect(k.contexts[0]!.context.namespace).toBe('demo');
    expect((YAML.parse(hubKubeconfig({ hub: 'https://h:1', token: 't', caCert: CA }, { name: 'prod' })) as Kubeconfig)['current-context']).toBe('prod');
  });
});
