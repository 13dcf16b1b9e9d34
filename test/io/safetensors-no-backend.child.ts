// Run by safetensors.test.ts in a fresh process: decodes a safetensors file with no tfjs backend
// registered (only @tensorflow/tfjs-core loaded) and prints the error it got as JSON.
import { decodeSafetensors } from '../../src/io/safetensors.js';

const json = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
const bytes = new Uint8Array(8 + json.length + 8);
new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
bytes.set(json, 8);
bytes.set(new Uint8Array(new Float32Array([1.5, -2]).buffer), 8 + json.length);
try {
  decodeSafetensors(bytes, 'w.safetensors');
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: (e as Error).name, message: (e as Error).message }));
}
