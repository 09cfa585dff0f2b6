// A Secret of the control plane's PKI, as the agent applies it. Pure.
import type { V1Secret } from '@kubernetes/client-node';
import { meta, type ManifestContext } from './common.js';

export function pkiSecret(ctx: ManifestContext, name: string, data: Readonly<Record<string, string>>): V1Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta(ctx, name, 'pki'), type: 'Opaque', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
}
