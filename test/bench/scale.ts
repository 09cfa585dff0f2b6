// npm run bench:scale -- --agents N [--runs R] [--workers W] [--dials-in-flight D] [--gateway-processes G] [--heartbeat MS] [--samples S] [--max-sim-stall-ms MS] [--single-kill] [--hub-cpu-prof DIR] [--fleet-cpu-prof DIR]
// npm run bench:scale -- --plot [FILE.json]   (draws FILE's series to FILE.svg; default the N given by --agents)
// npm run bench:scale -- --table FILE.json...  (prints the README's table of medians and spreads, a column per file)
// npm run bench:scale -- --agents N --merge FILE.json FILE.json...  (the runs of separate invocations as one scale-<N>.json)
// A real hub process and N simulated agents on loopback; prints the figures of issues 4 and 14 and writes
// them to test/bench/results/scale-<N>.json: every run's figures, their median and spread (min, max),
// and the series (connected, hub CPU, simulator CPU over time). Timings come from the hub's own record
// of each session (Welcome sent, Ack received); the simulator's clocks are kept beside them. A run whose
// simulator stalled past --max-sim-stall-ms measured the simulator, not the hub: it is marked invalid.
// Bounded: every step has a time limit and the run stops itself.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seriesSvg } from './scale/plot.js';
import { percentile, ScaleRun, type SeriesPoint } from './scale/scale-run.js';

const { values, positionals } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1' },
    workers: { type: 'string' },
    heartbeat: { type: 'string', default: '15000' },
    samples: { type: 'string', default: '1000' },
    'max-sim-stall-ms': { type: 'string', default: '1000' },
    'hub-cpu-prof': { type: 'string' },
    'fleet-cpu-prof': { type: 'string' },
    'gateway-processes': { type: 'string' },
    'dials-in-flight': { type: 'string' },
    'single-kill': { type: 'boolean', default: false },
    plot: { type: 'boolean', default: false },
    table: { type: 'boolean', default: false },
    merge: { type: 'boolean', default: false },
  },
  allowPositionals: true,
  strict: true,
});
const agents = Number(values.agents);
if (!Number.isInteger(agents) || agents < 1) throw new Error(`--agents ${values.agents} is not a positive whole number`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs} is not a positive whole number`);
const samples = Number(values.samples);
const maxSimStallMs = Number(values['max-sim-stall-ms']);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;
const dir = fileURLToPath(new URL('./results/', import.meta.url));

if (values.plot) {
  const file = positionals[0] ?? `${dir}scale-${agents}.json`;
  const result = JSON.parse(readFileSync(file, 'utf8')) as { agents: number; series: SeriesPoint[][] };
  const out = file.replace(/\.json$/, '.svg');
  writeFileSync(out, seriesSvg(result.series, `${result.agents} agents: connected and CPU over each run`));
  log(`wrote ${out}`);
  process.exit(0);
}

if (values.table) {
  const files = positionals.map((f) => ({ name: f.replace(/^.*\//, ''), r: JSON.parse(readFileSync(f, 'utf8')) as { median: Record<string, number>; spread: Record<string, [number, number]>; valid: boolean; invalidBecause: string[] } }));
  const keys = [...new Set(files.flatMap((f) => Object.keys(f.r.median)))];
  const cell = (f: (typeof files)[number], k: string) => (k in f.r.median ? `${f.r.median[k]} [${f.r.spread[k]!.join(', ')}]` : '—');
  const lines = [`| figure | ${files.map((f) => `\`${f.name}\``).join(' | ')} |`, `|---|${files.map(() => '---').join('|')}|`, ...keys.map((k) => `| ${k} | ${files.map((f) => cell(f, k)).join(' | ')} |`), `| valid | ${files.map((f) => (f.r.valid ? 'yes' : `no: ${f.r.invalidBecause.join('; ')}`)).join(' | ')} |`];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

const deadline = setTimeout(() => {
  log('bench: time limit (2 h per run) reached; stopping');
  process.exit(3);
}, runs * 2 * 3_600_000);
deadline.unref();

type Figures = Record<string, number>;

async function oneRun(n: number): Promise<{ figures: Figures; series: SeriesPoint[]; simStall: Record<string, number>; simDialWait: Record<string, number> }> {
  log(`run ${n + 1} of ${runs}, ${agents} agents: seeding and starting the hub`);
  const run = await ScaleRun.prepare({ agents, heartbeatMs: Number(values.heartbeat), log, ...(values.workers ? { workers: Number(values.workers) } : {}), ...(values['gateway-processes'] ? { gatewayProcesses: Number(values['gateway-processes']) } : {}), ...(values['dials-in-flight'] ? { dialsInFlight: Number(values['dials-in-flight']) } : {}), ...(values['fleet-cpu-prof'] ? { fleetProfileDir: values['fleet-cpu-prof'] } : {}), ...(values['hub-cpu-prof'] ? { hubNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${values['hub-cpu-prof']}`] } : {}) });
  // The simulator's worst loop stall (over the last minute, at the end of each phase): its bound says
  // whether the phase measured the hub.
  const simStall: Record<string, number> = {};
  // And the longest a dial waited for its turn in a simulator worker (its DialGate) in each phase.
  const simDialWait: Record<string, number> = {};
  const stallOf = async (phase: string) => {
    simStall[phase] = (await run.fleet.stats()).maxStallMs;
    simDialWait[phase] = run.fleet.takePhaseMaxDialWait();
  };
  try {
    log('connecting the fleet');
    // 40 ms an agent: at 100,000 the first connect of 2026-12-01 had 91,734 in at 1,676 s, and slowing.
    const connectSeconds = await run.connectAll(Math.max(120_000, agents * 40));
    await stallOf('connect');
    log(`  all ${agents} connected in ${round(connectSeconds)} s; settling`);
    run.phase = 'idle';
    await new Promise((r) => setTimeout(r, 5000));
    const memory = run.hubMemory();
    log(`  hubRssBytes ${memory.hubRssBytes}, bytesPerAgent ${memory.bytesPerAgent}, RSS per process (primary first) ${memory.perProcessMiB.join('/')} MiB`);
    log('measuring idle CPU');
    const idleHubCpuPercent = await run.idleCpuPercent(Math.max(10, Number(values.heartbeat) / 1000));
    log(`  idleHubCpuPercent ${round(idleHubCpuPercent, 1)}`);
    run.phase = 'changes';
    log(`measuring ${samples} changes`);
    const changes = await run.changeLatencies(samples);
    await stallOf('changes');
    log(`  changeP50Ms ${round(percentile(changes.hub, 50))}, changeP99Ms ${round(percentile(changes.hub, 99))} (hub's Ack receipt; agent's clock: ${round(percentile(changes.fleet, 50))} / ${round(percentile(changes.fleet, 99))})`);
    run.phase = 'rollout';
    log('fleet-wide rollout');
    const rollout = await run.fleetRolloutSeconds('1.33.9');
    await stallOf('rollout');
    log(`  fleetRolloutSeconds ${round(rollout.hubSeconds)} (hub's last Ack; agents' clocks ${round(rollout.seconds)}), CPU seconds: hub ${round(rollout.hubCpuSeconds, 1)}, fleet ${round(rollout.fleetCpuSeconds, 1)}`);
    run.phase = 'reconnect';
    log('hub kill -9 and restart');
    const reconnect = await run.killAndReconnect(Math.max(180_000, agents * 10));
    await stallOf('reconnect');
    const stats = await run.fleet.stats();
    log(`  reconnectSeconds ${round(reconnect.reconnectSeconds)}, hub's last Welcome ${round(reconnect.hubLastWelcomeSeconds)} s (p99 ${round(reconnect.hubWelcomeP99Seconds)}), TLS resumed ${round(reconnect.resumedShare)}, closes for silence ${stats.silentCloses} (most per agent ${stats.maxSilentCloses}), upgrades shed ${stats.shedRefusals}, CPU seconds: hub ${round(reconnect.hubCpuSeconds, 1)}, fleet ${round(reconnect.fleetCpuSeconds, 1)}`);
    let twice: Awaited<ReturnType<typeof run.killAndReconnect>> | undefined;
    let twiceStats: Awaited<ReturnType<typeof run.fleet.stats>> | undefined;
    if (!values['single-kill']) {
      run.phase = 'reconnect-twice';
      log('hub kill -9 and restart, and killed again once a tenth of the fleet is back');
      twice = await run.killAndReconnect(Math.max(180_000, agents * 10), { whenConnected: Math.ceil(agents / 10) });
      await stallOf('reconnect-twice');
      twiceStats = await run.fleet.stats();
      log(`  after the second kill: reconnectSeconds ${round(twice.reconnectSeconds)}, hub's last Welcome ${round(twice.hubLastWelcomeSeconds)} s (p99 ${round(twice.hubWelcomeP99Seconds)}), closes for silence ${twiceStats.silentCloses - stats.silentCloses} (most per agent over the run ${twiceStats.maxSilentCloses}), CPU seconds: hub ${round(twice.hubCpuSeconds, 1)}, fleet ${round(twice.fleetCpuSeconds, 1)}`);
      if (twice.revisionAfterReconnect !== twice.revisionBeforeReconnect) throw new Error(`the second storm moved the hub's revision from ${twice.revisionBeforeReconnect} to ${twice.revisionAfterReconnect}`);
    }
    log('baselines on bare servers: a ws echo, and the full work of a change');
    run.phase = 'baseline';
    const baseline = await run.baseline(samples, changes.last);
    const echo = baseline.rtts;
    log(`  echo p99 ${round(percentile(echo, 99), 3)} ms; change p50 ${round(percentile(baseline.changes, 50))} ms, p99 ${round(percentile(baseline.changes, 99))} ms (${baseline.changes.length} of ${samples} timed)`);
    if (reconnect.revisionAfterReconnect !== reconnect.revisionBeforeReconnect) {
      throw new Error(`the reconnect moved the hub's revision from ${reconnect.revisionBeforeReconnect} to ${reconnect.revisionAfterReconnect}: presence (or something the reconnect caused) consumed revisions`);
    }
    const figures: Figures = {
      connectSeconds: round(connectSeconds),
      hubRssBytes: memory.hubRssBytes,
      bytesPerAgent: memory.bytesPerAgent,
      idleHubCpuPercent: round(idleHubCpuPercent, 1),
      changeP50Ms: round(percentile(changes.hub, 50)),
      changeP99Ms: round(percentile(changes.hub, 99)),
      changeP99MsAgentClock: round(percentile(changes.fleet, 99)),
      fleetRolloutSeconds: round(rollout.hubSeconds),
      fleetRolloutSecondsAgentClock: round(rollout.seconds),
      rolloutHubCpuSeconds: round(rollout.hubCpuSeconds, 1),
      rolloutFleetCpuSeconds: round(rollout.fleetCpuSeconds, 1),
      // From the kill to the hub's last first-Welcome (the hub's record), and to every agent back and synced (the fleet's).
      reconnectSeconds: round(reconnect.hubLastWelcomeSeconds),
      reconnectP99Seconds: round(reconnect.hubWelcomeP99Seconds),
      reconnectAllSyncedSeconds: round(reconnect.reconnectSeconds),
      reconnectTlsResumedShare: round(reconnect.resumedShare),
      reconnectHubCpuSeconds: round(reconnect.hubCpuSeconds, 1),
      reconnectFleetCpuSeconds: round(reconnect.fleetCpuSeconds, 1),
      silentCloses: stats.silentCloses,
      maxSilentClosesPerAgent: stats.maxSilentCloses,
      upgradesShed: stats.shedRefusals,
      ...(twice && twiceStats
        ? {
            // Killed again while a tenth of the fleet was back: timed from the second kill.
            reconnectTwiceSeconds: round(twice.hubLastWelcomeSeconds),
            reconnectTwiceP99Seconds: round(twice.hubWelcomeP99Seconds),
            reconnectTwiceAllSyncedSeconds: round(twice.reconnectSeconds),
            reconnectTwiceHubCpuSeconds: round(twice.hubCpuSeconds, 1),
            reconnectTwiceFleetCpuSeconds: round(twice.fleetCpuSeconds, 1),
            reconnectTwiceSilentCloses: twiceStats.silentCloses - stats.silentCloses,
            maxSilentClosesPerAgentOverRun: twiceStats.maxSilentCloses,
          }
        : {}),
      revisionBeforeReconnect: reconnect.revisionBeforeReconnect,
      revisionAfterReconnect: reconnect.revisionAfterReconnect,
      baselineWsRttP50Ms: round(percentile(echo, 50), 3),
      baselineWsRttP99Ms: round(percentile(echo, 99), 3),
      // The same work on bare servers: an HTTPS write committed to SQLite, Poke, Sync, Changes, Ack.
      baselineChangeP50Ms: round(percentile(baseline.changes, 50)),
      baselineChangeP99Ms: round(percentile(baseline.changes, 99)),
      changeP99Ratio: round(percentile(changes.hub, 99) / percentile(baseline.changes, 99)),
      changeP99EchoRatio: round(percentile(changes.hub, 99) / percentile(echo, 99)),
      baselineBytesPerConnection: baseline.bytesPerConnection,
    };
    return { figures, series: run.series, simStall, simDialWait };
  } finally {
    await run.stop();
  }
}

type RunResult = Awaited<ReturnType<typeof oneRun>>;

/** Every run's figures, each figure's median and [min, max] over the runs, the series, and whether valid. */
function summarize(all: RunResult[], command: string, measuredAt: string) {
  const keys = Object.keys(all[0]!.figures);
  const column = (k: string) => all.map((r) => r.figures[k]!).sort((a, b) => a - b);
  // The median of an even count is the mean of the middle two.
  const median = (xs: number[]) => (xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2);
  const invalid = all.flatMap((r, n) => Object.entries(r.simStall).filter(([, ms]) => ms > maxSimStallMs).map(([phase, ms]) => `run ${n + 1}, ${phase}: simulator stalled ${ms} ms`));
  return {
    agents,
    runs: all.length,
    command,
    gatewayProcesses: values['gateway-processes'] ? Number(values['gateway-processes']) : undefined,
    // Each figure: the median of the runs, and [min, max] across them.
    median: Object.fromEntries(keys.map((k) => [k, round(median(column(k)), 3)])),
    spread: Object.fromEntries(keys.map((k) => [k, [column(k)[0], column(k).at(-1)]])),
    valid: invalid.length === 0,
    maxSimStallMs,
    invalidBecause: invalid,
    perRun: all.map((r) => ({ ...r.figures, simulatorMaxStallMs: r.simStall, simulatorMaxDialWaitMs: r.simDialWait })),
    series: all.map((r) => r.series),
    measuredAt,
  };
}

let result: ReturnType<typeof summarize>;
if (values.merge) {
  // Runs made by separate invocations (each with --runs 1, say), summarized as one file of N runs.
  type Written = ReturnType<typeof summarize>;
  const files = positionals.map((f) => ({ f, r: JSON.parse(readFileSync(f, 'utf8')) as Written }));
  if (files.length < 2) throw new Error('--merge needs two or more result files');
  const wrong = files.find((x) => x.r.agents !== agents);
  if (wrong) throw new Error(`${wrong.f} is of ${wrong.r.agents} agents, not --agents ${agents}`);
  const all: RunResult[] = files.flatMap(({ r }) =>
    r.perRun.map((p, i) => {
      const { simulatorMaxStallMs, simulatorMaxDialWaitMs, ...figures } = p;
      return { figures: figures as Figures, series: r.series[i] ?? [], simStall: simulatorMaxStallMs, simDialWait: simulatorMaxDialWaitMs ?? {} };
    }),
  );
  result = summarize(all, files.map(({ f, r }) => `${r.command} (${f.replace(/^.*\//, '')}, ${r.measuredAt})`).join('; then '), files.map(({ r }) => r.measuredAt).join(', '));
} else {
  const all: RunResult[] = [];
  for (let n = 0; n < runs; n++) all.push(await oneRun(n));
  result = summarize(all, `npm run bench:scale -- ${process.argv.slice(2).join(' ')}`, new Date().toISOString());
}
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}scale-${agents}.json`, `${JSON.stringify(result, null, 2)}\n`);
const keys = Object.keys(result.median);
const invalid = result.invalidBecause;
const width = Math.max(...keys.map((k) => k.length));
process.stdout.write(`${keys.map((k) => `${k.padEnd(width)}  ${result.median[k]}  [${result.spread[k]!.join(', ')}]`).join('\n')}\nvalid: ${result.valid}${invalid.length ? ` (${invalid.join('; ')})` : ''}\n`);
// Everything is stopped and written. A profiled 20,000-agent run once stayed alive here on some leftover
// handle (not found yet); the run ends now rather than at the time limit.
process.exit(0);
