// Checks that every package pinned in package-lock.json accepts the Node.js
// that Debian 12 ships (18.19.0, the oldest bookworm 18.x with a stable
// `node --test`), so `npm ci` on a bare Debian 12 installs versions that run.
//
// usage: node check_engines.mjs [NODE_VERSION]
//
// Understands the range forms the pinned packages use: ">=X[.Y[.Z]]",
// "^X.Y.Z", "X.x"-free exact versions, and "||" / space-separated sets.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.argv[2] ?? '18.19.0';
const parse = (v) => v.replace(/^v/, '').split('.').map((p) => Number.parseInt(p, 10) || 0);
const cmp = (a, b) => {
  for (let i = 0; i < 3; ++i) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};
const t = parse(target);

// True, false, or undefined for a range this checker does not understand.
function satisfies(range) {
  return range.split('||').some((alt) => {
    const parts = alt.trim().split(/\s+/).filter(Boolean);
    return parts.every((p) => {
      let m;
      if ((m = /^>=\s*(\d+(\.\d+){0,2})$/.exec(p))) return cmp(t, parse(m[1])) >= 0;
      if ((m = /^>\s*(\d+(\.\d+){0,2})$/.exec(p))) return cmp(t, parse(m[1])) > 0;
      if ((m = /^<\s*(\d+(\.\d+){0,2})$/.exec(p))) return cmp(t, parse(m[1])) < 0;
      if ((m = /^<=\s*(\d+(\.\d+){0,2})$/.exec(p))) return cmp(t, parse(m[1])) <= 0;
      if ((m = /^\^(\d+)(\.\d+){0,2}$/.exec(p))) return t[0] === Number(m[1]) && cmp(t, parse(p.slice(1))) >= 0;
      if (p === '*') return true;
      throw new Error(`unsupported engines range ${JSON.stringify(range)}`);
    });
  });
}

const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
let checked = 0;
const rejecting = [];
for (const [path, info] of Object.entries(lock.packages)) {
  if (path === '') continue;
  checked += 1;
  const range = info.engines?.node;
  if (range && !satisfies(range)) rejecting.push(`${path}@${info.version} (node ${range})`);
}
for (const r of rejecting) console.log(`rejects node ${target}: ${r}`);
console.log(`${checked - rejecting.length} passed, ${rejecting.length} failed: engines.node of the pinned packages against node ${target}`);
process.exit(rejecting.length === 0 ? 0 : 1);
