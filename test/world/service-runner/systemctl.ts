// `systemctl` and `journalctl` inside a test host: hands its arguments to the host's supervisor
// (supervisor.ts) over its unix socket and prints the answer, exiting with its code. A host's
// /usr/bin/systemctl is a two-line shell script that runs this with Node's own type stripping (no tsx:
// kubeadm and the agent call systemctl often, so it must start fast), hence node: imports only.
//
// Run: node systemctl.ts SOCKET systemctl|journalctl ARGS...
import { connect } from 'node:net';

const [socket, program, ...args] = process.argv.slice(2);
if (!socket || !program) {
  process.stderr.write('usage: systemctl.ts SOCKET systemctl|journalctl ARGS...\n');
  process.exit(2);
}

const conn = connect(socket);
let buf = '';
conn.on('connect', () => conn.write(`${JSON.stringify({ argv: [program, ...args] })}\n`));
conn.on('data', (d: Buffer) => (buf += d.toString()));
conn.on('error', (err) => {
  process.stderr.write(`${program}: this test host's supervisor does not answer on ${socket} (${err.message}): is the host running?\n`);
  process.exit(1);
});
conn.on('end', () => {
  const reply = JSON.parse(buf) as { out: string; err: string; code: number };
  process.stdout.write(reply.out);
  process.stderr.write(reply.err);
  process.exitCode = reply.code;
});
