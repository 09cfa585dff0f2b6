import { describe, expect, it } from 'vitest';
import { execCommand, mergeUnitFiles, parseEnvironmentFile, parseTimespanMs, parseUnitFile, serviceUnit, shouldRestart, splitWords } from './units.js';

// kubeadm's kubelet unit and drop-in, as the Kubernetes packages ship them.
const KUBELET = `[Unit]
Description=kubelet: The Kubernetes Node Agent
[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10
[Install]
WantedBy=multi-user.target
`;
const KUBEADM_DROP_IN = `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

describe('unit files', () => {
  it('merges the kubeadm drop-in: ExecStart= resets, Environment words keep their quotes, EnvironmentFile - is optional', () => {
    const u = serviceUnit('kubelet.service', mergeUnitFiles([parseUnitFile(KUBELET), parseUnitFile(KUBEADM_DROP_IN)]), []);
    expect(u.execStart).toEqual(['/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS']);
    expect(u.environment.KUBELET_CONFIG_ARGS).toBe('--config=/var/lib/kubelet/config.yaml');
    expect(u.environmentFiles).toEqual([{ path: '/var/lib/kubelet/kubeadm-flags.env', optional: true }, { path: '/etc/default/kubelet', optional: true }]);
    // kubeadm's unit turns the start rate limit off with the older [Service] StartLimitInterval=0
    expect(u).toMatchObject({ restart: 'always', restartSecMs: 10_000, wantedBy: ['multi-user.target'], startLimitIntervalMs: 0 });
    expect(serviceUnit('x.service', parseUnitFile('[Service]\nExecStart=/bin/true\n'), [])).toMatchObject({ startLimitIntervalMs: 10_000, startLimitBurst: 5 });
    const env = { ...u.environment, ...parseEnvironmentFile('KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=10.0.0.1"\n') };
    expect(execCommand(u.execStart[0]!, env).argv).toEqual([
      '/usr/local/bin/kubelet',
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      '--config=/var/lib/kubelet/config.yaml',
      '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
      '--node-ip=10.0.0.1',
    ]);
  });

  it('refuses a drop-in that adds an ExecStart without clearing the first, as systemd does', () => {
    const dropIn = '[Service]\nExecStart=/bin/other\n';
    expect(() => serviceUnit('kubelet.service', mergeUnitFiles([parseUnitFile(KUBELET), parseUnitFile(dropIn)]), [])).toThrow(/more than one ExecStart.*clear it/);
  });

  it('expands ${X} inside a word without splitting, $X as a whole word with splitting, $$ as $', () => {
    expect(execCommand('-/bin/echo a${X}b $Y "$$HOME" $UNSET', { X: '1 2', Y: 'p q' })).toEqual({ argv: ['/bin/echo', 'a1 2b', 'p', 'q', '$HOME'], ignoreFailure: true });
    expect(execCommand(':/bin/echo $Y', { Y: 'p' }).argv).toEqual(['/bin/echo', '$Y']);
    expect(() => execCommand('sleep 1', {})).toThrow(/absolute path/);
  });

  it('splits words with quotes and escapes, joins continuation lines', () => {
    expect(splitWords(`a "b c" 'd e' f\\ g`)).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(() => splitWords('a "b')).toThrow(/unbalanced/);
    expect(parseUnitFile('[Service]\nExecStart=/bin/sh \\\n  -c true\n').get('Service')).toEqual([['ExecStart', '/bin/sh -c true']]);
  });

  it('reads time spans and restart policies', () => {
    expect(parseTimespanMs('10')).toBe(10_000);
    expect(parseTimespanMs('1min 30s')).toBe(90_000);
    expect(parseTimespanMs('250ms')).toBe(250);
    expect(() => parseTimespanMs('soon')).toThrow(/time span/);
    expect(shouldRestart('on-failure', { code: 1, signal: null })).toBe(true);
    expect(shouldRestart('on-failure', { code: 0, signal: null })).toBe(false);
    expect(shouldRestart('on-failure', { code: null, signal: 'SIGKILL' })).toBe(true);
    expect(shouldRestart('no', { code: null, signal: 'SIGKILL' })).toBe(false);
  });
});
