// What the commands share about reading their arguments: the usage error (exit 2, the message says what
// to write instead), kinds by any name, and kubectl's KIND/NAME form.
import { findKind, KINDS, type KindInfo } from '@outpost/proto';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function kindArg(name: string): KindInfo {
  const k = findKind(name);
  if (!k) throw new UsageError(`unknown kind "${name}"; known kinds: ${KINDS.map((x) => x.plural).join(', ')}`);
  return k;
}

/** `get cluster pos` and `get cluster/pos` (what -o name prints) both name one object. */
export function kindAndName(kindWord: string, name: string | undefined): { kind: KindInfo; name: string | undefined } {
  const slash = kindWord.indexOf('/');
  if (slash < 0) return { kind: kindArg(kindWord), name };
  if (name !== undefined) throw new UsageError(`${kindWord} already names one object; leave out "${name}" (or write KIND NAME)`);
  const n = kindWord.slice(slash + 1);
  if (!n) throw new UsageError(`${kindWord} names no object: write KIND/NAME, such as cluster/pos`);
  return { kind: kindArg(kindWord.slice(0, slash)), name: n };
}

/**
 * -n and -A, as kubectl reads them: a project, or every project (also the default for a list here: the
 * CLI has no current project). A named object of a project-scoped kind needs its project.
 */
export function scope(kind: KindInfo, o: { namespace?: string; allNamespaces?: boolean }, name?: string): string | undefined {
  if (o.namespace && o.allNamespaces) throw new UsageError('-n PROJECT and -A (all projects) do not go together: choose one');
  if (!kind.namespaced) return undefined; // as kubectl ignores -n for a cluster-scoped kind
  if (name !== undefined && !o.namespace) throw new UsageError(`${kind.plural} live in a project: add -n PROJECT${o.allNamespaces ? ' (-A lists every project; it cannot name one object)' : ''}`);
  return o.namespace;
}
