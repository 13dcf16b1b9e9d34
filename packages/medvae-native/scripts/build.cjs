'use strict';
// Builds the addon at install time with the node-gyp that ships inside npm, against the Node headers
// installed beside the running node when there are any (so no download is needed). A failed build
// never fails `npm install`: medvae then runs its pure-wasm kernels, and says why when asked
// (useBackend('wasm', { native: true }) throws with this build's reason).
const { spawnSync } = require('node:child_process');
const { existsSync, writeFileSync, rmSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const statusFile = path.join(root, 'build-status.txt');

function finish(ok, message) {
  writeFileSync(statusFile, `${ok ? 'ok' : 'failed'}\n${message}\n`);
  console.log(`medvae-native: ${message}`);
  process.exit(0);
}

if (process.env.MEDVAE_NATIVE_SKIP_BUILD === '1') finish(false, 'build skipped (MEDVAE_NATIVE_SKIP_BUILD=1); medvae will use its pure-wasm kernels.');
if (process.platform !== 'linux') finish(false, `no build for ${process.platform} yet; medvae will use its pure-wasm kernels.`);

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => typeof c === 'string' && existsSync(c));
}

const gyp = findNodeGyp();
if (gyp === undefined) finish(false, "node-gyp not found (looked in npm's own node_modules); medvae will use its pure-wasm kernels.");

const args = [gyp, 'rebuild'];
// Headers of the running node (Debian's nodejs ships them in /usr/include/node): building against
// them needs no network. Without them node-gyp downloads the headers itself.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

rmSync(statusFile, { force: true });
const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (run.status === 0) finish(true, 'built build/Release/medvae_native.node');
finish(false, `the build failed (node-gyp exit ${run.status ?? run.signal}). It needs a C compiler and OpenBLAS (Debian: apt-get install build-essential libopenblas-dev). medvae will use its pure-wasm kernels.`);
