// Adds lockfile entries for the platform-specific optional packages of rollup (a dependency of
// vite/vitest) that npm could not record.
//
// Why: the npm registry reachable from our machines serves only the linux-x64 builds of such
// packages, so `npm install` writes a package-lock.json without the other platforms' entries, and
// npm 11's `npm ci` then refuses the lockfile ("Missing: @rollup/rollup-android-arm64@ from lock
// file"). Entries for other platforms are never installed here (os/cpu do not match), so version
// and platform fields, derived from rollup's optionalDependencies and the package names, suffice.
//
// Run after any `npm install` that changes the lockfile:  node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries({ ...packages })) {
  if (!key.endsWith('node_modules/rollup')) continue;
  const base = key.slice(0, -'rollup'.length);
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (!name.startsWith('@rollup/rollup-') || `${base}${name}` in packages) continue;
    // @rollup/rollup-<os>-<cpu>[-<abi>], e.g. rollup-linux-arm64-musl, rollup-win32-x64-msvc.
    const [os, cpu, abi] = name.slice('@rollup/rollup-'.length).split('-');
    const platform = { version, cpu: [cpu], dev: true };
    if (os === 'linux' && abi) platform.libc = [abi.startsWith('musl') ? 'musl' : 'glibc'];
    Object.assign(platform, { license: 'MIT', optional: true, os: [os] });
    packages[`${base}${name}`] = platform;
    added += 1;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entr${added === 1 ? 'y' : 'ies'}`);
