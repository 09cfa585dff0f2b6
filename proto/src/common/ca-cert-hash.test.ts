import { describe, expect, it } from 'vitest';
import { CA_CERT_HASH_RE, caCertHash } from './ca-cert-hash.js';

// Two self-signed CAs on one P-256 key (openssl req -x509 -key k.pem, different subjects). The expected
// pin is kubeadm's recipe, computed outside this code:
//   openssl x509 -in a.crt -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
const CA_A = `-----BEGIN CERTIFICATE-----
MIIBizCCATGgAwIBAgIUGXpsLksAtOcTM9DKB2vcEHha00cwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPb3V0cG9zdC10ZXN0LWNhMCAXDTI2MTIwMTA3MTgzOFoYDzIx
MjYxMTA3MDcxODM4WjAaMRgwFgYDVQQDDA9vdXRwb3N0LXRlc3QtY2EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAR6xNX3T9DISc4BOWSDTe/gLO/JBk5GukaNkG03
pIxaSHrcqrOLE3Iax4/MoTEvC/Q6P/zX8P2TcFAc4PzbkoWuo1MwUTAdBgNVHQ4E
FgQU5ZSP1CDUABIXRDx9c4VCro4nJikwHwYDVR0jBBgwFoAU5ZSP1CDUABIXRDx9
c4VCro4nJikwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAufVSF
wvKOt1RVnu8PBjhwKoSazktYHNO0FB1iUnZOUgIhAPFtcUVjMjFsl8ewXuYR9+5q
R8av7fE97Ug+1aSR1PvA
-----END CERTIFICATE-----
`;
const CA_B_SAME_KEY = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUKsNxavsZu11NcTvUXjKMKM+A5qwwCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXb3V0cG9zdC10ZXN0LWNhLXJlbmV3ZWQwIBcNMjYxMjAxMDcx
ODM4WhgPMjEyNjExMDcwNzE4MzhaMCIxIDAeBgNVBAMMF291dHBvc3QtdGVzdC1j
YS1yZW5ld2VkMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEesTV90/QyEnOATlk
g03v4CzvyQZORrpGjZBtN6SMWkh63KqzixNyGsePzKExLwv0Oj/81/D9k3BQHOD8
25KFrqNTMFEwHQYDVR0OBBYEFOWUj9Qg1AASF0Q8fXOFQq6OJyYpMB8GA1UdIwQY
MBaAFOWUj9Qg1AASF0Q8fXOFQq6OJyYpMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSAAwRQIgBERz1aueZef9GTVT3vQLzpVKPUxXbvz4Sjy4taRS1wICIQCb
XfuUHzOj3n1Ki8SeV9chnPrG5ulRZ46Jq2oKqYe8nQ==
-----END CERTIFICATE-----
`;
const PIN = 'sha256:2206dd039096bdeb65195c2711f667612474cdf7d6db27e961837c9a65c464a5';

describe('caCertHash', () => {
  it("is kubeadm's sha256 of the DER SubjectPublicKeyInfo", () => {
    expect(caCertHash(CA_A)).toBe(PIN);
    expect(caCertHash(CA_A)).toMatch(CA_CERT_HASH_RE);
  });

  it('pins the key, not the certificate: a CA re-signed with the same key keeps its pin', () => {
    expect(caCertHash(CA_B_SAME_KEY)).toBe(PIN);
  });

  it('throws on something that is not a certificate', () => {
    expect(() => caCertHash('-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n')).toThrow();
  });
});

describe('CA_CERT_HASH_RE', () => {
  it('takes sha256 and 64 lower-case hex digits only', () => {
    expect(CA_CERT_HASH_RE.test(`sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(CA_CERT_HASH_RE.test(`sha256:${'A'.repeat(64)}`)).toBe(false);
    expect(CA_CERT_HASH_RE.test(`sha256:${'a'.repeat(63)}`)).toBe(false);
    expect(CA_CERT_HASH_RE.test(`md5:${'a'.repeat(64)}`)).toBe(false);
  });
});
