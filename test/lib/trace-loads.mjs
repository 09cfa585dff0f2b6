// Preloaded with `node --import` (NODE_OPTIONS): records every module the process loads, ESM and
// CommonJS alike (module.registerHooks sees both import and require), and writes their URLs, one a line,
// to the file $OUTPOST_TRACE_LOADS when the process exits.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.OUTPOST_TRACE_LOADS;
if (!out) throw new Error('trace-loads.mjs needs OUTPOST_TRACE_LOADS: the file to write the loaded modules to');
const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => writeFileSync(out, [...loaded].join('\n')));
