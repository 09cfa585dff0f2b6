// Schema reflection from the generated JSON descriptor: the admin API validates JSON against it and
// derives its OpenAPI document from it, so the .proto file stays the only place a field is declared.
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const descriptor = require('./gen/descriptor.json') as protobuf.INamespace;

export const PACKAGE = 'outpost.v1alpha1';
export const root: protobuf.Root = protobuf.Root.fromJSON(descriptor);
root.resolveAll();

export function lookupType(name: string): protobuf.Type {
  return root.lookupType(`${PACKAGE}.${name}`);
}

export { protobuf };
