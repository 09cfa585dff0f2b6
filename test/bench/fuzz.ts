// npm run bench:fuzz -- [--runs N] [--seed S] [--target frame-decoder|manifests|admin-api] [--max-seconds T] [--hub-runs M]
// Fuzzes the frame decoder, the CLI's manifest reader and the admin API in process with fast-check, N
// inputs per target (default 100,000), then sends M of the API's inputs (default 2,000) to a real hub
// process over HTTPS. Every crash (an exception the target may not throw, a 500, a hang) is counted and
// the first of each kind kept with its input. Writes test/bench/results/fuzz-<N>.json and exits 1 on any
// crash. Bounded: stops at --max-seconds (default 2 h) with the runs done so far.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { hubTarget } from './fuzz/hub-target.js';
import { apiTarget, Crash, frameTarget, manifestTarget, type Target } from './fuzz/targets.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    target: { type: 'string', multiple: true },
    'max-seconds': { type: 'string', default: '7200' },
    'hub-runs': { type: 'string', default: '2000' },
  },
  strict: true,
});
const runs = Number(values.runs);
const seed = Number(values.seed);
const maxSeconds = Number(values['max-seconds']);
const hubRuns = Number(values['hub-runs']);
for (const [name, v] of [['--runs', runs], ['--seed', seed], ['--max-seconds', maxSeconds], ['--hub-runs', hubRuns]] as const) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a whole number`);
}
const log = (line: string): void => void process.stderr.write(`${line}\n`);
// The yaml library warns (process.emitWarning) on every map key that is a collection: fuzzed manifests
// have many, and a million lines of them would bury the summary.
process.removeAllListeners('warning');
const deadline = Date.now() + maxSeconds * 1000;

interface Finding {
  message: string;
  input: unknown;
  count: number;
}

interface TargetSummary {
  target: string;
  runs: number;
  crashes: number;
  seconds: number;
  stoppedAtTimeLimit: boolean;
  statuses?: Record<string, number>;
  findings: Finding[];
}

/** Inputs as JSON can hold them: bytes as hex. */
function printable(input: unknown): unknown {
  return JSON.parse(JSON.stringify(input, (_k, v: unknown) => (v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v)));
}

async function fuzz<T>(target: Target<T>, n: number): Promise<TargetSummary> {
  const start = performance.now();
  const findings = new Map<string, Finding>();
  let done = 0;
  let crashes = 0;
  const batch = 1000;
  try {
    for (let b = 0; done < n && Date.now() < deadline; b++) {
      for (const input of fc.sample(target.arbitrary, { numRuns: Math.min(batch, n - done), seed: seed + b })) {
        done++;
        try {
          await target.check(input);
        } catch (err) {
          crashes++;
          const message = String((err as Error)?.message ?? err);
          const kind = err instanceof Crash ? err.kind : message.slice(0, 60);
          const f = findings.get(kind);
          if (f) f.count++;
          else if (findings.size < 50) findings.set(kind, { message, input: printable(input), count: 1 });
        }
      }
      if (b % 20 === 19) log(`  ${target.name}: ${done} runs, ${crashes} crashes`);
    }
  } finally {
    await target.close();
  }
  const seconds = Math.round((performance.now() - start) / 10) / 100;
  const statuses = target.statuses ? Object.fromEntries([...target.statuses].sort(([a], [b]) => a - b)) : undefined;
  return { target: target.name, runs: done, crashes, seconds, stoppedAtTimeLimit: done < n, ...(statuses ? { statuses } : {}), findings: [...findings.values()] };
}

const wanted = values.target ?? ['frame-decoder', 'manifests', 'admin-api', 'hub-process'];
const makers: Record<string, () => Promise<Target<never>> | Target<never>> = {
  'frame-decoder': frameTarget as () => Target<never>,
  manifests: manifestTarget as () => Target<never>,
  'admin-api': apiTarget as () => Target<never>,
  'hub-process': hubTarget as () => Promise<Target<never>>,
};
for (const t of wanted) if (!makers[t]) throw new Error(`--target ${t} is not one of ${Object.keys(makers).join(', ')}`);

log(`bench:fuzz: ${runs} runs per target (hub process ${hubRuns}), seed ${seed}`);
const summaries: TargetSummary[] = [];
for (const name of wanted) {
  log(`fuzzing ${name}`);
  const s = await fuzz(await makers[name]!(), name === 'hub-process' ? hubRuns : runs);
  log(`  ${name}: ${s.runs} runs, ${s.crashes} crashes, ${s.seconds} s`);
  summaries.push(s);
}
const crashes = summaries.reduce((n, s) => n + s.crashes, 0);
const result = { date: new Date().toISOString(), node: process.version, seed, runsPerTarget: runs, crashes, seconds: summaries.reduce((n, s) => n + s.seconds, 0), targets: summaries };
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}fuzz-${runs}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${file}: ${crashes} crashes`);
process.exit(crashes ? 1 : 0);
