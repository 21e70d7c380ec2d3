// TensorFlow.js, loaded through require(). Its packages are large CommonJS bundles: an ESM import of them makes
// Node scan each one's whole source for export names first, which made every process that encodes start
// ~0.3 s later (measured: import 0.52 s, require 0.21 s for '@tensorflow/tfjs'). Types come from `TF`.
import nodeModule from 'node:module';
import type * as TF from '@tensorflow/tfjs';

export const load = nodeModule.createRequire(import.meta.url);
export const tf = load('@tensorflow/tfjs') as typeof TF;
export type { TF };
