// Generates the static protobuf code, its TypeScript declarations and a JSON descriptor (for schema
// reflection: validation and OpenAPI) from outpost.proto. Skips all work when the schema is unchanged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = join(root, 'outpost.proto');
const out = join(root, 'src', 'gen');
const stamp = join(out, '.stamp');
const bin = (name) => join(root, '..', 'node_modules', '.bin', name);

const hash = createHash('sha256').update(readFileSync(schema)).update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');
if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) process.exit(0);

mkdirSync(out, { recursive: true });
const js = join(out, 'outpost.js');
execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--force-number', '--no-verify', '--no-delimited', '-o', js, schema], { stdio: 'inherit' });
// Node's ESM resolver needs the file extension on a package subpath without an exports map.
writeFileSync(js, readFileSync(js, 'utf8').replace(/from "protobufjs\/minimal"/g, 'from "protobufjs/minimal.js"'));
execFileSync(bin('pbts'), ['-o', join(out, 'outpost.d.ts'), js], { stdio: 'inherit' });
// The descriptor keeps the .proto's comments (pbjs -t json drops them): the OpenAPI documents take their
// descriptions from there, so `kubectl explain` says what the schema's author wrote.
// Loaded (not only parsed) so its imports (google/protobuf/struct.proto) are in it too, as pbjs puts them.
const loaded = new protobuf.Root().loadSync(schema, { alternateCommentMode: true });
writeFileSync(join(out, 'descriptor.json'), `${JSON.stringify(loaded.toJSON({ keepComments: true }), null, 2)}\n`);
writeFileSync(stamp, hash);
console.log('proto: generated src/gen from outpost.proto');
