// A Release's artifact list at admission: well-formed entries, and every artifact its components and
// kubeadm need, so no site's mirror can lack one. A Release without artifacts is a catalogue entry.
import { requiredArtifacts } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API, ApiFixture, GV } from './api.fixture.js';

let f: ApiFixture;
beforeEach(() => {
  f = new ApiFixture();
});
afterEach(() => f.close());

async function createRelease(spec: object): Promise<{ status: number; body: { message?: string; details?: { causes?: Array<{ field: string; message: string }> } } }> {
  const res = await f.app.request(`${API}/releases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: GV, kind: 'Release', metadata: { name: '1.34.4' }, spec }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

const components = { 'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4', pause: 'outpost.local/pause:test' };
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const all = requiredArtifacts({ components }).map((a, i) => ({ type: a.type, name: a.name, digest: digest(i + 1), size: 10 }));

describe('Release artifacts', () => {
  it('admits a Release with every required artifact, and one with none', async () => {
    expect((await createRelease({ version: '1.34.4', components, artifacts: all })).status).toBe(201);
    f.close();
    f = new ApiFixture();
    expect((await createRelease({ version: '1.34.4', components })).status).toBe(201);
  });

  it('refuses a list that lacks an image the components name, naming it, and malformed entries', async () => {
    const artifacts = [...all.filter((a) => a.name !== components.pause), { type: 'tarball', name: 'x', digest: 'md5:abc', size: 1 }];
    const r = await createRelease({ version: '1.34.4', components, artifacts });
    expect(r.status).toBe(422);
    const causes = r.body.details?.causes ?? [];
    expect(causes.find((c) => c.field === 'spec.artifacts')?.message).toContain('image outpost.local/pause:test (spec.components.pause)');
    expect(causes.map((c) => c.field)).toEqual(expect.arrayContaining([`spec.artifacts[${artifacts.length - 1}].type`, `spec.artifacts[${artifacts.length - 1}].digest`]));
    expect(f.store.get('Release', '', '1.34.4')).toBeUndefined();
  });
});
