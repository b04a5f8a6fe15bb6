import { validateXML } from 'xmllint-wasm';
import { readFileSync } from 'node:fs';
const xsd = readFileSync('/tmp/qs/bx/schema/handover-archive-v1.xsd','utf8');
const docs = process.argv.slice(2).map((f,i) => ({ fileName: 'd'+i+'.xml', contents: readFileSync(f, 'utf8') }));
const mb = docs.reduce((a,d)=>a+d.contents.length,0)/1e6;
for (const stream of [false, true]) {
  const t = performance.now();
  const r = await validateXML({ xml: docs, schema: [{fileName:'s.xsd', contents: xsd}], stream, maxMemoryPages: 16384 });
  const s = (performance.now()-t)/1000;
  console.log('stream', stream, r.valid, mb.toFixed(1), 'MB in', s.toFixed(2), 's =', (mb/s).toFixed(1), 'MB/s');
}
