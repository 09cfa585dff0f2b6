// Protocol constants, beside the messages they govern (see outpost.proto, "The wire").

/** The agent WebSocket endpoint on the hub's HTTPS port. */
export const AGENT_PATH = '/agent/v1';
/** The join endpoint: bootstrap token in, agent credential out. */
export const JOIN_PATH = '/agent/v1/join';
/** The hub's CA certificate, fetched by `outpost-agent join` and checked against the pinned hash. */
export const CA_PATH = '/agent/v1/ca.crt';

/**
 * A different major is refused with Error{code: UNSUPPORTED_PROTOCOL}; a higher minor is accepted.
 * Status became the kind's typed status (a oneof) within 1.0: no agent was deployed with the earlier
 * Cluster-shaped fields, so no peer needs to tell the two apart (outpost.proto, message Status).
 */
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 1;
/**
 * The minor from which a hub answers SecretsRequest. A 1.0 hub closes a connection on a body it does not
 * know, so an agent asks only a hub whose Welcome says at least this; a newer hub needs no capability from
 * the agent, since it only ever answers.
 */
export const SECRETS_SINCE_MINOR = 1;

/** Whether a hub that said `welcome` in its Welcome answers SecretsRequest (an agent asks no other). */
export function hubAnswersSecrets(welcome: { protocolMajor?: number | null; protocolMinor?: number | null } | undefined): boolean {
  return welcome?.protocolMajor === PROTOCOL_MAJOR && (welcome.protocolMinor ?? 0) >= SECRETS_SINCE_MINOR;
}
/** Refs in one SecretsRequest; a request with more is answered with TOO_MANY for the rest. */
export const MAX_SECRETS_PER_REQUEST = 32;

/** Why a ClusterSecret carries no keys (SecretMissing.reason). */
export const SecretsMissing = {
  /** No Cluster of that key and uid is in the asking agent's view (or none exists). */
  notInView: 'NOT_IN_VIEW',
  /** The Cluster predates the hub keeping CAs: the hub holds none for it. */
  noCaOfRecord: 'NO_CA_OF_RECORD',
  /** The agent asked for more than the hub hands out per second; asked again later, it gets them. */
  rateLimited: 'RATE_LIMITED',
  /** Beyond MAX_SECRETS_PER_REQUEST in one frame. */
  tooMany: 'TOO_MANY',
  /** The hub could not open or record them (its log says why). */
  internal: 'INTERNAL',
} as const;
export type SecretsMissingReason = (typeof SecretsMissing)[keyof typeof SecretsMissing];

/** Frames above this are refused by both sides; the sender's connection is closed. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Changes answers are split to stay well below MAX_FRAME_BYTES. */
export const CHANGES_CHUNK_BYTES = 1024 * 1024;

export const HEARTBEAT_INTERVAL_MS = 15_000;
/** Either side closes a connection silent for this many heartbeat intervals. */
export const MISSED_HEARTBEATS_BEFORE_CLOSE = 3;

/**
 * Whether a side sends a Heartbeat now. Only a quiet link needs one: any frame resets the peer's read
 * deadline, and during a rollout or a reconnect storm a fleet's heartbeats are half a core of the hub's.
 * Skipped only after a frame in the last half interval, so the peer hears something at least every 1.5
 * intervals whatever its timer's jitter (it waits MISSED_HEARTBEATS_BEFORE_CLOSE).
 */
export function heartbeatDue(now: number, lastSentAt: number, intervalMs: number): boolean {
  return now - lastSentAt >= intervalMs / 2;
}

/** WebSocket close codes (4000-4999 are the application's). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  malformedFrame: 4400,
  unauthorized: 4401,
  unsupportedProtocol: 4426,
  heartbeatTimeout: 4408,
  /**
   * Another connection with this agent's credential took over. Reason names the newer connection's
   * address; an agent told this backs off long (two processes sharing one identity would otherwise
   * replace each other for ever).
   */
  replaced: 4409,
} as const;

/** Error codes carried in Error{code}. */
export const ErrorCode = {
  malformedFrame: 'MALFORMED_FRAME',
  unsupportedProtocol: 'UNSUPPORTED_PROTOCOL',
  unexpectedMessage: 'UNEXPECTED_MESSAGE',
  notInView: 'NOT_IN_VIEW',
  /** A Status that is not a well-formed report of its object's kind; the message names the field. */
  invalidStatus: 'INVALID_STATUS',
  /** A Status above MAX_STATUS_BYTES or with more than MAX_STATUS_CONDITIONS conditions; not recorded. */
  statusTooLarge: 'STATUS_TOO_LARGE',
  /** Frames above the hub's rate for this agent: not refused, coalesced (the latest per object lands later). */
  rateLimited: 'RATE_LIMITED',
  /** An Ack of a revision this connection was never sent; not recorded. */
  invalidAck: 'INVALID_ACK',
  internal: 'INTERNAL',
} as const;

/**
 * The largest status the hub keeps for one object (its JSON, after merging the report's conditions into
 * the stored ones), and the most conditions it may carry: every write of it goes into the change log
 * whole, so an unbounded one fills the disk (Fleet #1650).
 */
export const MAX_STATUS_BYTES = 64 * 1024;
export const MAX_STATUS_CONDITIONS = 64;
