// Typed access to the generated code. Every wire and resource type of Outpost is named here, once.
import './no-long.js';
import { outpost } from './gen/outpost.js';

export const pb = outpost.v1alpha1;

export type ObjectMeta = outpost.v1alpha1.ObjectMeta.$Properties;
export type Condition = outpost.v1alpha1.Condition.$Properties;
export type ObjectRef = outpost.v1alpha1.ObjectRef.$Properties;

/** A resource in its JSON form (admin API, store, CLI). */
export interface ResourceObject<Spec = object, Status = object> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec | null;
  status?: Status | null;
}

export type Project = ResourceObject<outpost.v1alpha1.ProjectSpec.$Properties, outpost.v1alpha1.ProjectStatus.$Properties>;
export type SSHKey = ResourceObject<outpost.v1alpha1.SSHKeySpec.$Properties, outpost.v1alpha1.SSHKeyStatus.$Properties>;
export type Datacenter = ResourceObject<outpost.v1alpha1.DatacenterSpec.$Properties, outpost.v1alpha1.DatacenterStatus.$Properties>;
export type Seed = ResourceObject<outpost.v1alpha1.SeedSpec.$Properties, outpost.v1alpha1.SeedStatus.$Properties>;
export type Site = ResourceObject<outpost.v1alpha1.SiteSpec.$Properties, outpost.v1alpha1.SiteStatus.$Properties>;
export type Host = ResourceObject<outpost.v1alpha1.HostSpec.$Properties, outpost.v1alpha1.HostStatus.$Properties>;
export type Cluster = ResourceObject<outpost.v1alpha1.ClusterSpec.$Properties, outpost.v1alpha1.ClusterStatus.$Properties>;
export type Release = ResourceObject<outpost.v1alpha1.ReleaseSpec.$Properties, outpost.v1alpha1.ReleaseStatus.$Properties>;
export type Agent = ResourceObject<outpost.v1alpha1.AgentSpec.$Properties, outpost.v1alpha1.AgentStatus.$Properties>;
export type Token = ResourceObject<outpost.v1alpha1.TokenSpec.$Properties, outpost.v1alpha1.TokenStatus.$Properties>;

export type ClusterStatus = outpost.v1alpha1.ClusterStatus.$Properties;
export type HostStatus = outpost.v1alpha1.HostStatus.$Properties;
/** One host's node in a Cluster's status.nodes: role, state (Ready once its node is Ready) and version. */
export type NodeState = outpost.v1alpha1.NodeState.$Properties;

export type Envelope = outpost.v1alpha1.Envelope.$Properties;
export type Hello = outpost.v1alpha1.Hello.$Properties;
export type Welcome = outpost.v1alpha1.Welcome.$Properties;
export type Sync = outpost.v1alpha1.Sync.$Properties;
export type Change = outpost.v1alpha1.Change.$Properties;
export type Changes = outpost.v1alpha1.Changes.$Properties;
export type Ack = outpost.v1alpha1.Ack.$Properties;
export type Poke = outpost.v1alpha1.Poke.$Properties;
export type Status = outpost.v1alpha1.Status.$Properties;
/** The fields of Status's `status` oneof: one per kind an agent reports (see wire/reportable-kinds.ts). */
export type StatusField = NonNullable<outpost.v1alpha1.Status['status']>;
export type Heartbeat = outpost.v1alpha1.Heartbeat.$Properties;
export type WireError = outpost.v1alpha1.Error.$Properties;
export type SecretsRequest = outpost.v1alpha1.SecretsRequest.$Properties;
export type Secrets = outpost.v1alpha1.Secrets.$Properties;
export type ClusterSecret = outpost.v1alpha1.ClusterSecret.$Properties;
export type ClusterKeysPem = outpost.v1alpha1.ClusterKeysPem.$Properties;
export type ResourceMessage = outpost.v1alpha1.Resource.$Properties;

/** The body kinds of an Envelope ("hello", "sync", ...). */
export type EnvelopeBody = NonNullable<outpost.v1alpha1.Envelope['body']>;
