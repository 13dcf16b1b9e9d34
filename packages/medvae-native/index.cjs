'use strict';
// Loads the compiled addon. A missing or broken build does not throw here: the module then
// exports `loadError` (why, including the install-time build's own message) and no kernels, so
// that medvae can fall back to its pure-wasm kernels and say why when asked.
const path = require('node:path');
const { readFileSync } = require('node:fs');

const addonPath = path.join(__dirname, 'build', 'Release', 'medvae_native.node');

function buildStatus() {
  try {
    return readFileSync(path.join(__dirname, 'build-status.txt'), 'utf8').trim().split('\n').slice(1).join(' ').trim() || undefined;
  } catch {
    return undefined;
  }
}

// OpenBLAS before 0.3.22 does not recognise AVX-512 CPUs other than Intel's (AMD Zen 4 gets its
// AVX2 'Haswell' kernels, half the speed). Its dynamic dispatch reads OPENBLAS_CORETYPE once, when
// the library initialises, i.e. when the addon is loaded: name the AVX-512 kernel set then, unless
// the user chose one. The variable is removed again so that child processes are not affected.
function avx512Core() {
  if (process.env.OPENBLAS_CORETYPE !== undefined || process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    const have = new Set(flags ? flags[1].trim().split(/\s+/) : []);
    return ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => have.has(f)) ? 'SkylakeX' : undefined;
  } catch {
    return undefined;
  }
}

let addon;
let loadError;
const core = avx512Core();
try {
  if (core !== undefined) process.env.OPENBLAS_CORETYPE = core;
  addon = require(addonPath);
} catch (err) {
  const status = buildStatus();
  loadError =
    `could not load ${addonPath}: ${err && err.message ? err.message.split('\n')[0] : String(err)}.` +
    (status ? ` Install-time build: ${status}` : ' No install-time build status was found (the install script did not run?).') +
    ' Rebuild with: npm rebuild medvae-native (needs a C compiler and OpenBLAS; Debian/Ubuntu: apt-get install build-essential libopenblas-dev).';
} finally {
  if (core !== undefined) delete process.env.OPENBLAS_CORETYPE;
}

module.exports = addon !== undefined ? { ...addon, addonPath, loadError: undefined } : { addonPath, loadError };
