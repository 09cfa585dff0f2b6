// What the bench orchestrator and its simulator workers say to each other over Node IPC.
export interface WorkerConfig {
  hubUrl: string;
  caCertPem: string;
  tokens: string[];
  /** Source addresses to spread connections over (the ephemeral-port limit is per address). */
  localAddresses: string[];
  /** Index of this worker's first agent in the whole fleet. */
  firstAgent: number;
  joinConcurrency: number;
  /** Hub dials under way at once in this worker (the agent's DialGate: dial-gate.ts says why). */
  dialsInFlight: number;
  /** Where `profile` writes this worker's CPU profile (.cpuprofile, for Chrome DevTools). */
  profileDir?: string;
}

export type ToWorker =
  | { t: 'await-revision'; id: number; revision: number; agent?: number }
  | { t: 'await-reconnect'; id: number; revision: number; connectsAtLeast: number }
  | { t: 'stats'; id: number }
  | { t: 'synced-times'; id: number }
  | { t: 'stop-links'; id: number }
  | { t: 'echo-connect'; id: number; url: string }
  | { t: 'echo-rtt'; id: number; agent: number }
  | { t: 'profile'; id: number; on: boolean }
  | { t: 'stop' };

export type FromWorker =
  /** errors: why links failed since the last report, by message. */
  /** dialWaitMs: the longest a dial waited for its turn in this worker since the last report; dialsQueued: waiting now. */
  | { t: 'progress'; joined: number; connected: number; failed: number; errors: Record<string, number>; lastError?: string; dialWaitMs: number; dialsQueued: number }
  | { t: 'reached'; id: number; at: number; maxAt?: number }
  | { t: 'stats'; id: number; connected: number; synced: number; minConnects: number; warnings: number; connects: number; resumed: number; stalledMs: number; maxStallMs: number; silentCloses: number; maxSilentCloses: number; shedRefusals: number; minRevision: number; maxRevision: number }
  | { t: 'echo-connected'; id: number; connected: number }
  | { t: 'links-stopped'; id: number }
  | { t: 'profiled'; id: number }
  | { t: 'rtt'; id: number; ms: number }
  | { t: 'synced-times'; id: number; times: number[] };
