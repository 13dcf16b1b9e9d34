// Shared plumbing of the example scripts: command-line options, output folder, PNG/JSON writers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend, writePng, type BackendName, type ImageData2D } from '../src/index.js';

/** The options every example accepts. */
export interface ExampleArgs {
  backend: BackendName;
  epochs: number | undefined;
  data: string | undefined;
  out: string;
  seed: number;
  quick: boolean;
}

/** Parses `--backend --epochs --data --out --seed --quick` and activates the backend. */
export async function setup(name: string, argv = process.argv.slice(2)): Promise<ExampleArgs> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'wasm' },
      epochs: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string', default: join('runs', name) },
      seed: { type: 'string', default: '0' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run example:${name} -- [--backend wasm|cpu|tensorflow|webgpu] [--epochs N] [--data PATH] [--out DIR] [--seed N] [--quick]`);
    process.exit(0);
  }
  const args: ExampleArgs = {
    backend: values.backend as BackendName,
    epochs: values.epochs === undefined ? undefined : Number(values.epochs),
    data: values.data,
    out: values.out as string,
    seed: Number(values.seed),
    quick: values.quick as boolean,
  };
  await useBackend(args.backend);
  await mkdir(args.out, { recursive: true });
  console.log(`[${name}] backend ${args.backend}${args.quick ? ' (quick mode)' : ''}; writing to ${args.out}`);
  return args;
}

/** Writes an 8-bit image as PNG under the output folder. */
export async function savePng(out: string, file: string, image: ImageData2D): Promise<void> {
  await writeFile(join(out, file), writePng(image));
}

/** Writes `summary.json` under the output folder and prints it. */
export async function saveSummary(out: string, summary: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(summary, null, 2);
  await writeFile(join(out, 'summary.json'), `${text}\n`);
  console.log(text);
}
