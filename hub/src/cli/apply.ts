// `outpost apply -f` (create or replace what the manifests say) and `outpost diff -f` (what applying them
// would change: the hub's own dry-run answer against the live object, as a unified diff, kubectl diff's way).
import { isDeepStrictEqual } from 'node:util';
import { GROUP_VERSION, isAgentFinalizer, type KindInfo, type ResourceObject, type Token } from '@outpost/proto';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import YAML from 'yaml';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { parseManifests, readManifestSource } from './manifests.js';
import { withoutManagedFields } from './output.js';
import { kindArg } from './usage.js';

/**
 * What `apply` owns of an object: the user-settable metadata and the spec. Agent finalizers are the hub's
 * (it keeps them on a replace), so a manifest without them is not a change.
 */
function applied(o: ResourceObject): unknown {
  const m = o.metadata;
  const finalizers = (m.finalizers ?? []).filter((f) => !isAgentFinalizer(f));
  return { labels: m.labels ?? {}, annotations: m.annotations ?? {}, finalizers, spec: JSON.parse(JSON.stringify(o.spec ?? {})) as unknown };
}

/** One manifest object, checked to have what the API needs to address it. */
interface Target {
  obj: ResourceObject;
  kind: KindInfo;
  label: string;
  namespace: string | undefined;
}

function target(obj: ResourceObject): Target {
  const kind = kindArg(obj.kind);
  const label = `${kind.singular}/${obj.metadata.name}`;
  const namespace = obj.metadata.namespace ?? undefined;
  if (kind.namespaced && !namespace) throw new Error(`${label}: ${kind.kind} lives in a project; set metadata.namespace`);
  return { obj, kind, label, namespace };
}

/** Reads the manifests of -f FILE (or - for stdin) and addresses each; errors name the document. */
export function readTargets(file: string): Target[] {
  const { text, source } = readManifestSource(file);
  return parseManifests(text, source).map(target);
}

/** The live object, or undefined where there is none. */
async function live(api: ApiClient, t: Target): Promise<ResourceObject | undefined> {
  try {
    return await api.get(t.kind, t.obj.metadata.name ?? '', t.namespace);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

export async function apply(api: ApiClient, file: string, dryRun: boolean): Promise<number> {
  const { text, source } = readManifestSource(file);
  let failed = 0;
  for (const obj of parseManifests(text, source)) {
    let t: Target;
    try {
      t = target(obj);
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      failed++;
      continue;
    }
    try {
      const current = await live(api, t);
      const dry = dryRun ? ' (server dry run)' : '';
      if (!current) {
        const created = await api.create<Token>(obj, { dryRun });
        process.stdout.write(`${t.label} created${dry}\n`);
        if (created.kind === 'Token' && created.status?.token) process.stdout.write(`token: ${created.status.token}\n`);
      } else if (isDeepStrictEqual(applied(obj), applied(current))) {
        process.stdout.write(`${t.label} unchanged${dry}\n`);
      } else {
        await api.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata.resourceVersion } }, { dryRun });
        process.stdout.write(`${t.label} configured${dry}\n`);
      }
    } catch (err) {
      failed++;
      process.stderr.write(`error: ${t.label}: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/**
 * An object as the diff shows it. resourceVersion is left out: a dry run assigns none that would last,
 * so it would differ on every changed object and say nothing.
 */
function shownForDiff(o: ResourceObject | undefined): string {
  if (!o) return '';
  const { resourceVersion: _rv, ...metadata } = withoutManagedFields(o).metadata;
  // Keys sorted on both sides (as kubectl's, from Go maps): the hub's answer need not keep the live order.
  return YAML.stringify({ ...o, metadata }, { sortMapEntries: true });
}

/** The diff's file name for an object, as kubectl names it: group.version.Kind[.namespace].name. */
function diffName(t: Target): string {
  return [GROUP_VERSION.replace('/', '.'), t.kind.kind, ...(t.namespace ? [t.namespace] : []), t.obj.metadata.name ?? ''].join('.');
}

/**
 * Prints, for each object of the file whose apply would change something, a unified diff from the live
 * object to what the hub answers to a dry run of that apply. Exit code as kubectl diff's: 0 no differences,
 * 1 differences, 2 an error (the manifest, or a hub that refuses the change: then the diff is not known).
 */
export async function diff(api: ApiClient, file: string): Promise<number> {
  const targets = readTargets(file);
  let differs = false;
  let failed = false;
  for (const t of targets) {
    try {
      const current = await live(api, t);
      if (current && isDeepStrictEqual(applied(t.obj), applied(current))) continue;
      const merged = current
        ? await api.replace({ ...t.obj, metadata: { ...t.obj.metadata, resourceVersion: current.metadata.resourceVersion } }, { dryRun: true })
        : await api.create(t.obj, { dryRun: true });
      const before = shownForDiff(current);
      const after = shownForDiff(merged);
      if (before === after) continue;
      differs = true;
      const name = diffName(t);
      const patch = createTwoFilesPatch(`live/${name}`, `merged/${name}`, before, after, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY });
      process.stdout.write(`diff -u -N live/${name} merged/${name}\n${patch}`);
    } catch (err) {
      failed = true;
      process.stderr.write(`error: ${t.label}: ${(err as Error).message}\n`);
    }
  }
  return failed ? 2 : differs ? 1 : 0;
}
