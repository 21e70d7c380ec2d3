// Chooses the TensorFlow.js backend once per process: the native tfjs-node ('tensorflow') where it is
// installed and loads, else the WebAssembly backend, which runs everywhere with the same model files.
import { registerWasmGradientKernels } from './kernels.js';
import { load, tf } from './tfjs.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let ready: Promise<BackendName> | undefined;

async function tryNative(): Promise<boolean> {
  try {
    // Optional dependency: absent, or present without its libtensorflow, on many machines. The
    // specifier is a variable so that neither TypeScript nor a bundler insists on resolving it.
    const nativePackage = '@tensorflow/tfjs-node';
    load(nativePackage);
    return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

async function useWasm(): Promise<void> {
  load('@tensorflow/tfjs-backend-wasm');
  registerWasmGradientKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('The TensorFlow.js wasm backend failed to start');
}

/**
 * Initialises the backend. `DOPPEL_BACKEND=wasm|tensorflow|cpu` forces one (cpu is the slow reference
 * backend the tests compare against).
 */
export function initBackend(prefer: BackendName | undefined = envBackend()): Promise<BackendName> {
  ready ??= (async (): Promise<BackendName> => {
    if (prefer === 'cpu') {
      await tf.setBackend('cpu');
      return 'cpu';
    }
    if (prefer !== 'wasm' && (await tryNative())) return 'tensorflow';
    if (prefer === 'tensorflow') throw new Error('@tensorflow/tfjs-node is not installed or failed to load');
    await useWasm();
    return 'wasm';
  })();
  return ready;
}

function envBackend(): BackendName | undefined {
  const value = process.env.DOPPEL_BACKEND;
  return value === 'wasm' || value === 'tensorflow' || value === 'cpu' ? value : undefined;
}

export { tf };
