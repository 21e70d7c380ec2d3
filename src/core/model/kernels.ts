// Gradient kernels for the wasm backend, built from its own fast Conv2D (XNNPACK) on transposed tensors.
// tfjs-backend-wasm has no Conv2DBackpropFilter (training fails without it) and a slow, naive
// Conv2DBackpropInput. Both gradients of a convolution are convolutions themselves:
//   dW = conv(xᵀ, dyᵀ)          with x as [Cin, H, W, N] and dy as a filter [Ho, Wo, N, Cout]
//   dx = conv(dy, rot180(W)ᵀ)    with the filter flipped and its channel axes swapped ("full" padding)
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf, type TF } from './tfjs.js';

// Kernels receive the backend as `{}`; what these kernels need of it is this one method.
type Backend = Parameters<KernelFunc>[0]['backend'] & { disposeData(dataId: object): boolean };
type Attrs = Record<string, unknown>;

function run(name: string, backend: Backend, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
}

function dispose(backend: Backend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function convInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: TF.backend_util.ExplicitPadding | 'valid' | 'same' | number,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): TF.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

function assertNhwc(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== 'NHWC') throw new Error(`${kernel} on wasm supports NHWC only, got ${String(dataFormat)}`);
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as Backend;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as TF.Conv2DBackpropFilterAttrs;
  assertNhwc(a.dataFormat, 'Conv2DBackpropFilter');
  const xShape = x.shape as [number, number, number, number];
  const info = convInfo(xShape, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const { top, left } = info.padInfo;
  const [, H, W] = xShape;
  // Output side = H + top + bottom - ((Ho - 1) * stride + 1) + 1 must equal the filter side.
  let bottom = kh - H - top + (info.outHeight - 1) * info.strideHeight;
  let right = kw - W - left + (info.outWidth - 1) * info.strideWidth;
  let xs = x;
  if (bottom < 0 || right < 0) {
    // Rows/columns past the last window never touch the output: crop them.
    const h = H + Math.min(bottom, 0);
    const w = W + Math.min(right, 0);
    xs = run('Slice', backend, { x }, { begin: [0, 0, 0, 0], size: [xShape[0], h, w, xShape[3]] });
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }
  const xT = run('Transpose', backend, { x: xs }, { perm: [3, 1, 2, 0] });
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  const conv = run(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
    },
  );
  const dw = run('Transpose', backend, { x: conv }, { perm: [1, 2, 0, 3] });
  dispose(backend, xT, dyT, conv);
  if (xs !== x) dispose(backend, xs);
  return dw;
};

function makeConv2dBackpropInput(fallback: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as Backend;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as TF.Conv2DBackpropInputAttrs;
    assertNhwc(a.dataFormat, 'Conv2DBackpropInput');
    const filterShape = filter.shape as [number, number, number, number];
    const info = convInfo(a.inputShape, filterShape, a.strides, a.pad, a.dimRoundingMode);
    if (info.strideHeight !== 1 || info.strideWidth !== 1) {
      // Strided convolutions would need a zero-dilated dy; the backend's own kernel handles them.
      if (!fallback) throw new Error('Conv2DBackpropInput with strides > 1 is not supported on wasm');
      return fallback(args);
    }
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const { top, left, bottom, right } = info.padInfo;
    const flipped = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
    const wT = run('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    const dx = run(
      'Conv2D',
      backend,
      { x: dy, filter: wT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [kh - 1 - top, kh - 1 - bottom],
          [kw - 1 - left, kw - 1 - right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
    dispose(backend, flipped, wT);
    return dx;
  };
}

let registered = false;

/** Registers the two gradient kernels on the wasm backend (idempotent). */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  // Keep the backend's own kernel (and its set-up, which binds the wasm function) for strided convolutions.
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm') as KernelConfig | undefined;
  if (original) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  const configs: KernelConfig[] = [
    {
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      kernelFunc: makeConv2dBackpropInput(original?.kernelFunc),
      ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
    },
  ];
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    configs.push({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter });
  }
  for (const config of configs) tf.registerKernel(config);
}
