// `outpost get` (one object, a list, or a list and then its changes with -w) and `outpost describe`.
import type { KindInfo, ResourceObject } from '@outpost/proto';
import { ApiError, type ApiClient, type ListOptions } from '../client/api-client.js';
import { renderDescribe } from './describe.js';
import { formatList, formatObject, type Output } from './output.js';

export interface GetOptions extends ListOptions {
  output: Output;
  watch?: boolean;
}

/** A Token's secret is shown once, by create; never by a read (the hub keeps none to show), and never here. */
export function withoutSecret(o: ResourceObject): ResourceObject {
  if (o.kind !== 'Token' || !o.status || !('token' in o.status)) return o;
  const { token: _secret, ...status } = o.status as Record<string, unknown>;
  return { ...o, status } as ResourceObject;
}

export async function get(api: ApiClient, kind: KindInfo, name: string | undefined, namespace: string | undefined, o: GetOptions): Promise<number> {
  // One object by name is, to a watch, the list narrowed to that name (as kubectl does it).
  const fieldSelector = name ? [`metadata.name=${name}`, o.fieldSelector].filter(Boolean).join(',') : o.fieldSelector;
  const withProject = kind.namespaced && !namespace;
  if (name && !o.watch) {
    const obj = withoutSecret(await api.get(kind, name, namespace));
    process.stdout.write(formatObject(obj, o.output));
    return 0;
  }
  const list = await api.list(kind, namespace, { labelSelector: o.labelSelector, fieldSelector });
  const items = list.items.map(withoutSecret);
  if (!o.watch) {
    process.stdout.write(formatList(items, list.metadata, o.output, withProject));
    return 0;
  }
  return watch(api, kind, namespace, { labelSelector: o.labelSelector, fieldSelector }, items, list.metadata.resourceVersion, o.output, withProject);
}

/**
 * `get -w`: the objects as they are, then each change as it comes, until interrupted (Ctrl-C or SIGTERM
 * end it with exit code 0). A table prints its header once; YAML documents are separated by ---.
 */
async function watch(api: ApiClient, kind: KindInfo, namespace: string | undefined, sel: ListOptions, items: ResourceObject[], resourceVersion: string, out: Output, withProject: boolean): Promise<number> {
  let printed = 0;
  const table = out.format === 'table' || out.format === 'wide';
  // A table's rows line up with what was printed first (kubectl's watch does the same with its tab writer):
  // each new row is laid out together with those, and only its own line printed.
  const first: ResourceObject[] = [];
  const show = (obj: ResourceObject): void => {
    if (table && printed > 0) {
      const lines = formatList([...first, obj], { resourceVersion }, out, withProject).trimEnd().split('\n');
      process.stdout.write(`${lines[lines.length - 1]}\n`);
    } else {
      const text = formatObject(obj, out, withProject);
      process.stdout.write(out.format === 'yaml' && printed > 0 ? `---\n${text}` : text);
    }
    if (table && first.length === 0) first.push(obj);
    printed++;
  };
  if (table && items.length > 0) {
    process.stdout.write(formatList(items, { resourceVersion }, out, withProject));
    first.push(...items);
    printed = items.length;
  } else items.forEach(show);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failure: string | undefined;
  try {
    await api.watch(kind, namespace, { ...sel, resourceVersion, signal: stop.signal }, (e) => {
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'ERROR') {
        failure = (e.object as unknown as { message?: string }).message ?? 'the hub sent an error event';
        stop.abort();
        return;
      }
      show(withoutSecret(e.object));
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (failure) throw new ApiError(0, 'WatchError', `the watch ended: ${failure}`);
  if (!stop.signal.aborted) throw new ApiError(0, 'WatchClosed', 'the hub closed the watch (is it shutting down?); run the command again to go on watching');
  return 0;
}

/** `describe KIND NAME`, or every object of the kind (in the project, with -n) one after another. */
export async function describe(api: ApiClient, kind: KindInfo, name: string | undefined, namespace: string | undefined, sel: ListOptions): Promise<number> {
  const objects = name ? [await api.get(kind, name, namespace)] : (await api.list(kind, namespace, sel)).items;
  if (objects.length === 0) {
    process.stderr.write(`No ${kind.plural} found${namespace ? ` in project ${namespace}` : ''}.\n`);
    return 0;
  }
  process.stdout.write(objects.map((obj) => renderDescribe(withoutSecret(obj))).join('\n\n'));
  return 0;
}
