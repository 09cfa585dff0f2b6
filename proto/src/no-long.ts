// 64-bit fields (revisions, generations) decode as plain numbers: they stay far below 2^53, and a Long
// object leaking into JSON, SQL or comparisons is a bug magnet. This must run before the generated code
// loads, because it bakes default values (Long(0) or 0) into message prototypes at load time; pbjs
// --force-number does not reach the decoder.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
