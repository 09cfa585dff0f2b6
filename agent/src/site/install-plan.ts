// What installing a Release on one site host takes, as an ordered list of steps the flow runs over SSH:
// each binary and CNI plugin uploaded from the agent's artifact cache, checked against its digest on the
// host and moved into place; each image archive imported into containerd's k8s.io namespace. Every step
// says how to tell it is already done (skipIf), so a flow run again after a failure, or on a host that
// has the Release, uploads nothing twice. Pure: the flow does the uploads and runs the commands.
import { digestHex, REQUIRED_BINARIES, REQUIRED_CNI_PLUGINS } from '@outpost/proto';
import { ArtifactsMissingError, SiteInputError, SiteReleaseError } from './errors.js';
import type { HostPaths } from './host-paths.js';
import type { ImageAlias } from './kubeadm-images.js';
import type { ShellCommand } from './shell-command.js';
import { shJoin } from './ssh/shell-quote.js';

/** A Release's spec.artifacts entry (proto Artifact), as read from the view. */
export interface ReleaseArtifact {
  name?: string | null;
  type?: string | null;
  digest?: string | null;
  size?: number | null;
  platform?: string | null;
}

export interface InstallPlanInputs {
  /** The Release's name, for messages. */
  release: string;
  /** The Release's spec.artifacts. */
  artifacts: readonly ReleaseArtifact[];
  /** The Release's spec.components: every image named there must be imported. */
  components: Readonly<Record<string, string>>;
  /** The host's platform as probed ("linux/amd64": `uname -s`/`uname -m` in Go's names). */
  platform: string;
  /** Where the agent's cache holds the blob of `digest` (the flow fetches it there first). */
  localPath: (digest: string) => string;
  paths: HostPaths;
  /** Images to tag again after the import (kubeadmImagePlan().aliases). */
  aliases?: readonly ImageAlias[];
  /**
   * How to run ctr on the host: the binary and any flags before the command; default ["ctr"] from PATH
   * (Debian's containerd package puts it in /usr/bin). A containerd on another socket: ["ctr", "-a", SOCKET].
   */
  ctr?: readonly string[];
}

/** An upload from the agent's cache to a host. */
export interface Upload {
  /** The local path (the cache's blob). */
  from: string;
  /** The path on the host: a staging name, never the final one, so a broken upload is never run. */
  to: string;
  /** The staged file's mode; 0600 until it is checked. */
  mode: number;
  size: number;
}

interface StepBase {
  /** Stable and unique in the plan ("binary/kubeadm", "image/sha256:..."): a flow journal key. */
  id: string;
  description: string;
  /** Exits 0 when the host already has what this step makes: skip the upload and `run`. */
  skipIf?: ShellCommand;
}

/** Upload, then run (which checks the upload's digest before anything uses it). */
export interface UploadStep extends StepBase {
  kind: 'upload';
  artifact: { type: 'binary' | 'cni' | 'image'; names: string[]; digest: string };
  upload: Upload;
  run: ShellCommand;
}

export interface CommandStep extends StepBase {
  kind: 'command';
  run: ShellCommand;
}

export type InstallStep = UploadStep | CommandStep;

export interface InstallPlan {
  /** Directories, binaries and CNI plugins, in order. Need nothing running on the host. */
  files: InstallStep[];
  /** Image imports, then image aliases, in order. Need containerd running with its config (host-files.ts). */
  images: InstallStep[];
  /** Where each binary of the Release ends up: name -> path on the host. */
  binaries: Record<string, string>;
}

const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
// A file name a host installs: no "/" (a path out of its directory), no leading "." or "-".
const FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

interface Picked {
  type: 'binary' | 'cni' | 'image';
  name: string;
  hex: string;
  digest: string;
  size: number;
}

/** `printf 'HEX  FILE\n' | sha256sum -c --status`: exits 0 when FILE holds exactly those bytes. */
function digestMatches(hex: string, file: string): ShellCommand {
  return `${shJoin(['printf', '%s  %s\\n', hex, file])} | ${shJoin(['sha256sum', '-c', '--status'])}`;
}

/** The artifacts of one type for the host's platform, by name; those of the host's platform win over platform-free ones. */
function pick(input: InstallPlanInputs): Map<string, Picked> {
  const out = new Map<string, Picked>();
  const rank = new Map<string, number>();
  for (const [i, a] of input.artifacts.entries()) {
    const type = a.type;
    if (type !== 'binary' && type !== 'cni' && type !== 'image') continue;
    const platform = a.platform ?? '';
    if (platform !== '' && platform !== input.platform) continue;
    const name = a.name ?? '';
    const hex = digestHex(a.digest ?? '');
    if (!hex) throw new SiteReleaseError(input.release, [], `Release ${input.release}: spec.artifacts[${i}] (${type} ${name}) has digest "${a.digest ?? ''}", not sha256:<64 hex>; import the release directory again (outpost release import DIR)`);
    if (type !== 'image' && !FILE_NAME_RE.test(name)) throw new SiteReleaseError(input.release, [], `Release ${input.release}: spec.artifacts[${i}] names ${type} ${JSON.stringify(name)}, which is not a plain file name (letters, digits, ".", "_", "+", "-"; no "/" or leading "." or "-"); rename the file in the release directory and import it again`);
    if (type === 'image' && !/^[\x21-\x7e]+$/.test(name)) throw new SiteReleaseError(input.release, [], `Release ${input.release}: spec.artifacts[${i}] names image ${JSON.stringify(name)}, which is not an image reference`);
    const key = `${type}\0${name}`;
    const r = platform === '' ? 0 : 1;
    if ((rank.get(key) ?? -1) >= r) continue;
    rank.set(key, r);
    out.set(key, { type, name, hex, digest: `sha256:${hex}`, size: a.size ?? 0 });
  }
  return out;
}

/**
 * The install plan of a Release on a host of `platform`, or ArtifactsMissingError naming every binary,
 * CNI plugin and image archive the host needs that the Release has not for its platform.
 */
export function installPlan(input: InstallPlanInputs): InstallPlan {
  if (!PLATFORM_RE.test(input.platform)) throw new SiteInputError('platform', `"${input.platform}" is not a platform such as linux/amd64`);
  const picked = pick(input);
  const images = [...new Set(Object.values(input.components))].sort();
  const needed = [
    ...REQUIRED_BINARIES.map((n) => `binary\0${n}`),
    ...REQUIRED_CNI_PLUGINS.map((n) => `cni\0${n}`),
    ...images.map((r) => `image\0${r}`),
  ];
  const missing = needed.filter((k) => !picked.has(k)).map((k) => k.replace('\0', ' '));
  const aliasGaps = (input.aliases ?? []).filter((a) => !images.includes(a.source)).map((a) => `image ${a.source} (the ${a.component} kubeadm asks for as ${a.target})`);
  if (missing.length || aliasGaps.length) throw new ArtifactsMissingError(input.release, input.platform, [...missing, ...aliasGaps]);

  const p = input.paths;
  const ctr = input.ctr ?? ['ctr'];
  if (ctr.length === 0) throw new SiteInputError('ctr', 'is empty; give the ctr binary, such as ["ctr"]');
  const files: InstallStep[] = [
    { kind: 'command', id: 'dirs', description: 'make the directories the Release installs into', run: shJoin(['mkdir', '-p', p.binDir, p.cniBinDir, p.cniConfDir, p.stagingDir]) },
  ];
  const binaries: Record<string, string> = {};
  // kubeadm, kubelet, kubectl first (the required ones, in their order), then the rest by name.
  const ordered = [...picked.values()].filter((a) => a.type !== 'image').sort((a, b) => order(a) - order(b) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  for (const a of ordered) {
    const dir = a.type === 'binary' ? p.binDir : p.cniBinDir;
    const target = `${dir}/${a.name}`;
    // Staged beside the target, so the final mv is a rename on one filesystem: a running kubelet keeps its
    // old inode, and no one ever sees half a binary.
    const staged = `${dir}/.${a.name}.outpost-${a.hex.slice(0, 12)}`;
    if (a.type === 'binary') binaries[a.name] = target;
    files.push({
      kind: 'upload',
      id: `${a.type}/${a.name}`,
      description: `install ${a.type} ${a.name} (${a.digest}) as ${target}`,
      artifact: { type: a.type, names: [a.name], digest: a.digest },
      skipIf: `${digestMatches(a.hex, target)} 2>/dev/null && test "$(stat -c %a ${shJoin([target])})" = 755`,
      upload: { from: input.localPath(a.digest), to: staged, mode: 0o600, size: a.size },
      run: `if ${digestMatches(a.hex, staged)}; then ${shJoin(['chmod', '0755', staged])} && ${shJoin(['mv', '-f', staged, target])}; else ${shJoin(['rm', '-f', staged])}; ${shJoin(['echo', `${staged} is not ${a.digest}: the upload was damaged and is removed; the step uploads it again`])} >&2; exit 1; fi`,
    });
  }

  const imageSteps: InstallStep[] = [];
  const lsHas = (ref: string) => `${shJoin([...ctr, '-n', 'k8s.io', 'images', 'ls', '-q'])} | ${shJoin(['grep', '-Fxq', '--', ref])}`;
  // One archive may hold several references (one artifact each): it is uploaded and imported once.
  const byDigest = new Map<string, Picked[]>();
  for (const ref of images) {
    const a = picked.get(`image\0${ref}`)!;
    byDigest.set(a.digest, [...(byDigest.get(a.digest) ?? []), a]);
  }
  for (const [digest, group] of [...byDigest].sort(([a], [b]) => a.localeCompare(b))) {
    const first = group[0]!;
    const names = group.map((g) => g.name);
    const staged = `${p.stagingDir}/${first.hex}.tar`;
    const allThere = names.map(lsHas).join(' && ');
    imageSteps.push({
      kind: 'upload',
      id: `image/${digest}`,
      description: `import image ${names.join(', ')} (${digest}) into containerd`,
      artifact: { type: 'image', names, digest },
      skipIf: allThere,
      upload: { from: input.localPath(digest), to: staged, mode: 0o600, size: first.size },
      run:
        `if ${digestMatches(first.hex, staged)}; then ${shJoin([...ctr, '-n', 'k8s.io', 'images', 'import', staged])}; rc=$?; ${shJoin(['rm', '-f', staged])}; ` +
        `[ $rc -eq 0 ] || exit $rc; ${allThere} || { ${shJoin(['echo', `the archive ${digest} does not hold ${names.join(', ')}, which the Release says it does: import the release directory again`])} >&2; exit 1; }; ` +
        `else ${shJoin(['rm', '-f', staged])}; ${shJoin(['echo', `${staged} is not ${digest}: the upload was damaged and is removed; the step uploads it again`])} >&2; exit 1; fi`,
    });
  }
  for (const alias of input.aliases ?? []) {
    imageSteps.push({
      kind: 'command',
      id: `alias/${alias.target}`,
      description: `tag ${alias.source} as ${alias.target}, the ${alias.component} image kubeadm looks for`,
      skipIf: lsHas(alias.target),
      run: shJoin([...ctr, '-n', 'k8s.io', 'images', 'tag', '--force', alias.source, alias.target]),
    });
  }
  return { files, images: imageSteps, binaries };
}

function order(a: Picked): number {
  const i = (REQUIRED_BINARIES as readonly string[]).indexOf(a.name);
  return a.type === 'binary' && i >= 0 ? i : a.type === 'binary' ? 10 : 20;
}
