// The bench's series as an SVG line chart for the README: agents connected (left axis) and CPU of the
// hub's processes and of the simulator's (right axis, % of one core) over seconds since the run began,
// one set of lines per run. Plain SVG text: three polylines per run need no charting library.
import type { SeriesPoint } from './scale-run.js';

const W = 900;
const H = 420;
const PAD = { left: 70, right: 70, top: 40, bottom: 50 };
const COLORS = { connected: '#1f77b4', hub: '#d62728', fleet: '#2ca02c' };
const DASH = ['', '6 3', '2 2', '8 2 2 2'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function seriesSvg(runs: SeriesPoint[][], title: string): string {
  const points = runs.flat();
  const maxT = Math.max(1, ...points.map((p) => p.t));
  const maxConnected = Math.max(1, ...points.map((p) => p.connected));
  const maxCpu = Math.max(100, ...points.map((p) => Math.max(p.hubCpuPercent, p.fleetCpuPercent)));
  const x = (t: number) => PAD.left + (t / maxT) * (W - PAD.left - PAD.right);
  const yLeft = (v: number) => H - PAD.bottom - (v / maxConnected) * (H - PAD.top - PAD.bottom);
  const yRight = (v: number) => H - PAD.bottom - (v / maxCpu) * (H - PAD.top - PAD.bottom);
  const line = (pts: SeriesPoint[], y: (p: SeriesPoint) => number, color: string, dash: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map((p) => `${x(p.t).toFixed(1)},${y(p).toFixed(1)}`).join(' ')}"/>`;
  const ticks = (n: number, max: number) => Array.from({ length: n + 1 }, (_, i) => (max * i) / n);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#444"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#444"/>`,
    `<line x1="${W - PAD.right}" y1="${PAD.top}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#444"/>`,
  ];
  for (const t of ticks(10, maxT)) out.push(`<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${Math.round(t)}</text>`);
  for (const v of ticks(5, maxConnected)) out.push(`<text x="${PAD.left - 6}" y="${yLeft(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${Math.round(v)}</text>`, `<line x1="${PAD.left}" y1="${yLeft(v).toFixed(1)}" x2="${W - PAD.right}" y2="${yLeft(v).toFixed(1)}" stroke="#eee"/>`);
  for (const v of ticks(5, maxCpu)) out.push(`<text x="${W - PAD.right + 6}" y="${yRight(v).toFixed(1)}" dominant-baseline="middle">${Math.round(v)} %</text>`);
  out.push(
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">seconds since the run began</text>`,
    `<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle" fill="${COLORS.connected}">agents connected</text>`,
    `<text x="${W - 12}" y="${H / 2}" transform="rotate(90 ${W - 12} ${H / 2})" text-anchor="middle">CPU, % of one core</text>`,
  );
  runs.forEach((pts, i) => {
    const dash = DASH[i % DASH.length]!;
    out.push(line(pts, (p) => yLeft(p.connected), COLORS.connected, dash), line(pts, (p) => yRight(p.hubCpuPercent), COLORS.hub, dash), line(pts, (p) => yRight(p.fleetCpuPercent), COLORS.fleet, dash));
  });
  // Where each phase of the first run begins.
  let phase = '';
  for (const p of runs[0] ?? []) {
    if (p.phase === phase) continue;
    phase = p.phase;
    out.push(`<line x1="${x(p.t).toFixed(1)}" y1="${PAD.top}" x2="${x(p.t).toFixed(1)}" y2="${H - PAD.bottom}" stroke="#bbb" stroke-dasharray="3 3"/>`, `<text x="${(x(p.t) + 3).toFixed(1)}" y="${PAD.top + 12}" fill="#777">${esc(phase)}</text>`);
  }
  const legend = [['agents connected', COLORS.connected], ['hub CPU', COLORS.hub], ['simulator CPU', COLORS.fleet]] as const;
  legend.forEach(([label, color], i) => out.push(`<rect x="${PAD.left + 10 + i * 150}" y="${PAD.top - 14}" width="12" height="3" fill="${color}"/>`, `<text x="${PAD.left + 26 + i * 150}" y="${PAD.top - 10}">${label}</text>`));
  if (runs.length > 1) out.push(`<text x="${W - PAD.right}" y="${PAD.top - 10}" text-anchor="end">runs: solid, dashed, dotted</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
