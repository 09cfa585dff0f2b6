import { describe, expect, it } from 'vitest';
import { describeFacts, parseProbe, portsInUse, ProbeParseError, preflightProblems } from './host-probe.js';

const OUTPUT = ['os=debian', 'osVersion=13', 'arch=x86_64', 'kernel=6.1.0-28-amd64', 'cgroupFs=tmpfs', 'swapDevices=0', 'ports=22,10250,', 'kubelet=', 'kubeletRunning=no', 'kubeletConf=no', 'containerd=/usr/bin/containerd', 'capEff=000001ffffffffff', 'now=1000.50'].join('\n');

describe('parseProbe', () => {
  it('reads the facts, in Go architecture names, with skew against the midpoint of the round trip', () => {
    const f = parseProbe(OUTPUT, 999_000, 1_001_000);
    expect(f).toEqual({
      os: 'debian', osVersion: '13', arch: 'amd64', kernel: '6.1.0-28-amd64', cgroupVersion: 1, swapOn: false, listening: [22, 10250],
      kubelet: { path: '', running: false, joined: false }, containerd: '/usr/bin/containerd', clockSkewSeconds: 0.5, canLowerOomScore: true,
    });
    expect(describeFacts(f)).toBe('debian 13, linux/amd64, kernel 6.1.0-28-amd64, cgroup v1, swap off, clock skew +0.50 s, no kubelet');
    expect(portsInUse(f, [6443, 10250])).toEqual([10250]);
    expect(preflightProblems(f)).toEqual([]);
  });

  it('says what it could not tell, and what blocks provisioning', () => {
    const f = parseProbe(OUTPUT.replace('ports=22,10250,', 'ports=?').replace('cgroupFs=tmpfs', 'cgroupFs=cgroup2fs').replace('arch=x86_64', 'arch=mips'), 1_100_000, 1_100_000);
    expect(f.listening).toBeUndefined();
    expect(portsInUse(f, [6443])).toEqual([]);
    expect(f.cgroupVersion).toBe(2);
    expect(parseProbe(OUTPUT.replace('capEff=000001ffffffffff', 'capEff=000001fffeffffff'), 0, 1_000_000).canLowerOomScore).toBe(false);
    expect(preflightProblems(f)).toEqual([
      "its clock is -99.5 s off the agent's (at most 30 s): certificates would not be valid there yet or any more; run an NTP client on the host",
      'its architecture mips is not one Outpost installs (amd64, arm64)',
    ]);
    expect(() => parseProbe('os=debian\n', 0, 0)).toThrow(ProbeParseError);
    expect(() => parseProbe(OUTPUT.replace('now=1000.50', 'now=soon'), 0, 0)).toThrow(/the host's clock answered "soon"/);
  });
});
