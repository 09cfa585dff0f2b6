import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import { descriptorLimit, parseDescriptorLimit } from './descriptor-limit.js';
import { defaultMaxConnections, HubOptionsError, resolveHubOptions } from './hub-options.js';

describe('resolveHubOptions', () => {
  it('keeps the audit log 90 days and at most 1,000,000 rows by default', () => {
    const r = resolveHubOptions({ dataDir: '/x' });
    expect({ age: r.auditMaxAge, ms: r.auditMaxAgeMs, rows: r.auditMaxRows, clock: r.clock }).toEqual({ age: '90d', ms: 90 * 86_400_000, rows: 1_000_000, clock: systemClock });
    expect(resolveHubOptions({ dataDir: '/x', auditMaxAge: '12h', auditMaxRows: 5000 })).toMatchObject({ auditMaxAgeMs: 12 * 3_600_000, auditMaxRows: 5000 });
  });

  it('refuses an audit age that is not a duration, or too short, and a row count that is not a positive whole number', () => {
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxAge: '30 days' })).toThrow(new HubOptionsError('audit max age "30 days" is not a duration: write a whole number and s, m, h or d, such as --audit-max-age 30d'));
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxAge: '30s' })).toThrow(/audit max age 30s is too short \(at least 1m\)/);
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxRows: 0 })).toThrow(/audit max rows 0 is not a whole number of at least 1 \(--audit-max-rows N\)/);
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxRows: Number('lots') })).toThrow(HubOptionsError);
  });
});

describe('blob garbage collection', () => {
  it('keeps an unreferenced blob a day and sweeps hourly by default; refuses a grace under a minute, naming the flag', () => {
    expect(resolveHubOptions({ dataDir: '/x' })).toMatchObject({ blobGcGrace: '24h', blobGcGraceMs: 86_400_000, blobGcInterval: '1h', blobGcIntervalMs: 3_600_000 });
    expect(resolveHubOptions({ dataDir: '/x', blobGcGrace: '2h', blobGcInterval: '5s' })).toMatchObject({ blobGcGraceMs: 7_200_000, blobGcIntervalMs: 5000 });
    expect(() => resolveHubOptions({ dataDir: '/x', blobGcGrace: '30s' })).toThrow(/blob GC grace "30s" is not a duration of at least 1m, such as --blob-gc-grace 24h/);
    expect(() => resolveHubOptions({ dataDir: '/x', blobGcInterval: 'hourly' })).toThrow(/--blob-gc-interval 1h/);
  });
});

describe('connection limits', () => {
  it('derive from the descriptor limit: 5 % (64 to 1,000) kept back, half for the unauthenticated, a quarter of that per address', () => {
    expect(resolveHubOptions({ dataDir: '/x' }, 20_000)).toMatchObject({ maxConnections: 19_000, maxUnauthenticatedConnections: 9_500, maxUnauthenticatedPerAddress: 2_375, handshakeTimeout: '10s', handshakeTimeoutMs: 10_000, maxFailedJoinsPerMinute: 10 });
    expect(resolveHubOptions({ dataDir: '/x' }, 1024)).toMatchObject({ maxConnections: 960, maxUnauthenticatedConnections: 480, maxUnauthenticatedPerAddress: 120 });
    expect(resolveHubOptions({ dataDir: '/x' }, 1_048_576).maxConnections).toBe(1_047_576);
    expect(defaultMaxConnections(20_000)).toBe(19_000);
    // Given limits derive the ones below them.
    expect(resolveHubOptions({ dataDir: '/x', maxConnections: 200 }, 20_000)).toMatchObject({ maxConnections: 200, maxUnauthenticatedConnections: 100, maxUnauthenticatedPerAddress: 25 });
    expect(resolveHubOptions({ dataDir: '/x', handshakeTimeout: '2s' }, 20_000).handshakeTimeoutMs).toBe(2000);
    // A gateway process leaves new connections to its siblings before its own cap refuses them.
    expect([20_000, 1024, 1_048_576].map((fds) => resolveHubOptions({ dataDir: '/x' }, fds).connectionsPerGatewayProcess)).toEqual([18_000, 864, 18_000]);
  });

  it('refuses limits the descriptors cannot hold, or that do not nest, naming the flag', () => {
    expect(() => resolveHubOptions({ dataDir: '/x', maxConnections: 30_000 }, 20_000)).toThrow(/max connections 30000 leaves less than 64 of this process's descriptor limit of 20000 .*raise `ulimit -n` or lower --max-connections/);
    expect(() => resolveHubOptions({ dataDir: '/x', maxConnections: 19_937 }, 20_000)).toThrow(/leaves less than 64/);
    expect(resolveHubOptions({ dataDir: '/x', maxConnections: 19_936 }, 20_000).maxConnections).toBe(19_936);
    expect(() => resolveHubOptions({ dataDir: '/x', maxConnections: 0 }, 20_000)).toThrow(/--max-connections N/);
    expect(() => resolveHubOptions({ dataDir: '/x', maxConnections: 100, maxUnauthenticatedConnections: 101 }, 20_000)).toThrow(/--max-unauthenticated-connections N/);
    expect(() => resolveHubOptions({ dataDir: '/x', maxUnauthenticatedConnections: 10, maxUnauthenticatedPerAddress: 11 }, 20_000)).toThrow(/--max-unauthenticated-per-address N/);
    expect(() => resolveHubOptions({ dataDir: '/x', handshakeTimeout: '500ms' }, 20_000)).toThrow(/--handshake-timeout 10s/);
    expect(() => resolveHubOptions({ dataDir: '/x', handshakeTimeout: '10m' }, 20_000)).toThrow(/from 1s to 2m/);
    expect(() => resolveHubOptions({ dataDir: '/x', maxFailedJoinsPerMinute: 0 }, 20_000)).toThrow(/--max-failed-joins-per-minute N/);
    expect(() => resolveHubOptions({ dataDir: '/x', gatewayProcesses: 2, maxConnections: 1000, connectionsPerGatewayProcess: 1001 }, 20_000)).toThrow(/would refuse connections instead of leaving them to the others; lower --connections-per-gateway-process/);
    expect(resolveHubOptions({ dataDir: '/x', gatewayProcesses: 0, maxConnections: 1000, connectionsPerGatewayProcess: 1001 }, 20_000).connectionsPerGatewayProcess).toBe(1001);
  });
});

describe('parseDescriptorLimit', () => {
  it("reads the soft limit of /proc/self/limits' Max open files", () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95000                95000                processes \nMax open files            20000                1048576              files     \n';
    expect(parseDescriptorLimit(limits)).toBe(20_000);
    expect(parseDescriptorLimit('Max open files            unlimited            unlimited            files\n')).toBeUndefined();
    expect(descriptorLimit()).toBeGreaterThan(0);
  });
});

describe('artifact uploads', () => {
  it('take at most 8 GiB by default, or the size given, and refuse a size that is not one', () => {
    expect(resolveHubOptions({ dataDir: '/x' }).maxUploadBytes).toBe(8 * 1024 ** 3);
    expect(resolveHubOptions({ dataDir: '/x', maxUploadSize: '512MiB' }).maxUploadBytes).toBe(512 * 1024 ** 2);
    expect(() => resolveHubOptions({ dataDir: '/x', maxUploadSize: 'huge' })).toThrow(/max upload size: "huge" is not a size.*--max-upload-size 8GiB/);
    expect(() => resolveHubOptions({ dataDir: '/x', maxUploadSize: '0' })).toThrow(/at least 1 byte/);
  });
});
