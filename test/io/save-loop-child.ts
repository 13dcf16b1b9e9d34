// Child process of the kill test in saved-model-kill.test.ts: saves two different models into one
// directory, alternately, until it is killed. Prints "saved <n>" after each completed save.
import { UNetSegmenter, useBackend } from '../../src/index.js';

const dir = process.argv[2];
await useBackend('cpu');
const models = [
  new UNetSegmenter({ inChannels: 1, numClasses: 1, channels: [4, 8], activation: 'relu', seed: 1 }),
  new UNetSegmenter({ inChannels: 1, numClasses: 1, channels: [4, 8], activation: 'silu', seed: 2 }),
];
for (let n = 0; ; n++) {
  await models[n % 2].save(dir);
  process.stdout.write(`saved ${n}\n`);
}
