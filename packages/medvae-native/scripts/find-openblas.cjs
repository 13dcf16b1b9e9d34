'use strict';
// Tells binding.gyp where OpenBLAS is. `include`: the directory holding OpenBLAS's cblas.h.
// `libraries`: the static archive when there is one (the addon then needs no OpenBLAS at run
// time), else `-lopenblas`. MEDVAE_NATIVE_OPENBLAS=dynamic forces the shared library;
// OPENBLAS_INCLUDE_DIR / OPENBLAS_LIB_DIR point at a custom installation.
const { existsSync } = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function triplet() {
  try {
    return execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  } catch {
    return `${process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch}-linux-gnu`;
  }
}

const t = triplet();
const includeDirs = [
  process.env.OPENBLAS_INCLUDE_DIR,
  `/usr/include/${t}/openblas-pthread`,
  '/usr/include/openblas',
  `/usr/include/${t}`,
  '/usr/local/include',
  '/opt/homebrew/opt/openblas/include',
].filter((d) => typeof d === 'string' && d !== '');
const libDirs = [process.env.OPENBLAS_LIB_DIR, `/usr/lib/${t}/openblas-pthread`, `/usr/lib/${t}`, '/usr/lib64', '/usr/lib', '/usr/local/lib'].filter(
  (d) => typeof d === 'string' && d !== '',
);

const what = process.argv[2];
if (what === 'include') {
  const dir = includeDirs.find((d) => existsSync(path.join(d, 'cblas.h')));
  process.stdout.write(dir ?? '');
} else if (what === 'libraries') {
  const archive = process.env.MEDVAE_NATIVE_OPENBLAS === 'dynamic' ? undefined : libDirs.map((d) => path.join(d, 'libopenblas.a')).find((f) => existsSync(f));
  const shared = libDirs.find((d) => existsSync(path.join(d, 'libopenblas.so')));
  if (archive !== undefined) process.stdout.write(`${archive} -lpthread -lm`);
  else process.stdout.write(`${shared !== undefined ? `-L${shared} -Wl,-rpath,${shared} ` : ''}-lopenblas -lpthread -lm`);
} else if (what === 'defines') {
  const archive = process.env.MEDVAE_NATIVE_OPENBLAS === 'dynamic' ? undefined : libDirs.map((d) => path.join(d, 'libopenblas.a')).find((f) => existsSync(f));
  process.stdout.write(archive !== undefined ? 'MEDVAE_NATIVE_STATIC_OPENBLAS=1' : 'MEDVAE_NATIVE_DYNAMIC_OPENBLAS=1');
} else {
  process.stderr.write('usage: find-openblas.cjs include|libraries|defines\n');
  process.exit(1);
}
