// An agent's view, named once for hub and agent ("site/<name>" or "seed/<name>", as Welcome.view says),
// and the finalizer by which the agent serving that view holds an object until it has torn down what it
// made for it. The hub puts the finalizer on every Cluster the view serves; only that agent releases it,
// with Status{finalized}.

export function siteView(site: string): string {
  return `site/${site}`;
}

export function seedView(seed: string): string {
  return `seed/${seed}`;
}

/** The domain of every agent finalizer: what `outpost apply` and replaces leave to the hub. */
export const AGENT_FINALIZER_PREFIX = 'agent.outpost.dev/';

const AGENT_VIEW_RE = /^(site|seed)\/(.+)$/;

/** `site/store-0412` -> `agent.outpost.dev/site.store-0412`. Only a Site's or Seed's view has an agent. */
export function agentFinalizer(view: string): string {
  const m = AGENT_VIEW_RE.exec(view);
  if (!m) throw new RangeError(`"${view}" is not an agent's view (site/<name> or seed/<name>); no agent finalizer names it`);
  return `${AGENT_FINALIZER_PREFIX}${m[1]}.${m[2]}`;
}

/** Whether `finalizer` names an agent's work (the hub keeps it; only that agent releases it). */
export function isAgentFinalizer(finalizer: string): boolean {
  return finalizer.startsWith(AGENT_FINALIZER_PREFIX);
}
