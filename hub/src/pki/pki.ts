// The hub's CA and serving certificate (ECDSA P-256): made with the X.509 code hub and agent share (proto).
// The pin agents check (caCertHash) is in proto too.
export type { KeyPairPem } from '@outpost/proto';
export { createCa, createClientCert, createServingCert } from '@outpost/proto/x509';
