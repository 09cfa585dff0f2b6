// A cluster's certificate authorities and service-account key, as PEM: what the hub (the CA of record)
// makes when a Cluster is created and delivers only to the agent that serves that cluster. One type for
// both ends, so what the hub seals is what the agent reads.

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface ClusterKeys {
  /** Signs the API server's serving certificate and every client certificate (kubeadm's ca.crt). */
  ca: KeyPairPem;
  /** Signs the API server's client certificate to aggregated API servers (front-proxy-ca.crt). */
  frontProxyCa: KeyPairPem;
  /** etcd's own CA (etcd/ca.crt). */
  etcdCa: KeyPairPem;
  /** Signs and checks service-account tokens (sa.key / sa.pub). */
  serviceAccount: { publicKeyPem: string; privateKeyPem: string };
}
