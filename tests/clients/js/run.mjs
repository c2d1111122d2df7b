// Runs the JavaScript client tests with node's built-in test runner.
//
// usage: node run.mjs --ferry PATH/TO/ferry [test files...]
//
// Exits 77 (ctest's skip code here) when the npm packages are not installed
// (`npm ci` in this directory installs them), else with the runner's status.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--ferry');
if (at < 0 || at + 1 >= args.length) {
  console.error('usage: node run.mjs --ferry PATH/TO/ferry [test files...]');
  process.exit(2);
}
const ferry = args[at + 1];
args.splice(at, 2);
for (const pkg of ['@aws-sdk/client-sqs', '@aws-sdk/client-sns', 'sqs-consumer']) {
  if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
    console.log(`SKIP: ${pkg} is not installed; run \`npm ci\` in ${here}`);
    process.exit(77);
  }
}
const files =
  args.length > 0
    ? args
    : readdirSync(here)
        .filter((f) => f.endsWith('.test.mjs'))
        .sort()
        .map((f) => join(here, f));
console.log(`node ${process.version}; ferry: ${ferry}`);
const r = spawnSync(process.execPath, ['--test', ...files], {
  stdio: 'inherit',
  env: { ...process.env, FERRY_BINARY: ferry, AWS_EC2_METADATA_DISABLED: 'true' },
});
process.exit(r.status ?? 1);
