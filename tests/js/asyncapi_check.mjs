// Parse an AsyncAPI document with the AsyncAPI initiative's own parser and
// print its diagnostics: `errors N warnings M`, then one line each.
import { Parser } from '@asyncapi/parser';
import fs from 'fs';

const parser = new Parser();
const { diagnostics } = await parser.parse(fs.readFileSync(process.argv[2], 'utf8'));
const errors = diagnostics.filter((d) => d.severity === 0);
const warnings = diagnostics.filter((d) => d.severity === 1);
console.log(`errors ${errors.length} warnings ${warnings.length}`);
for (const d of [...errors, ...warnings]) {
  console.log(`${d.severity === 0 ? 'error' : 'warning'} ${d.code} ${JSON.stringify(d.path)}: ${d.message}`);
}
