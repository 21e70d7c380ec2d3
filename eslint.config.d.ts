// Types of what eslint.config.js exports besides the config (tests/lint-layers.test.ts reads the rooms of src/core).
export const CORE_ROOMS: readonly string[];
export const CORE_BASE: readonly string[];
export const CORE_TOP: readonly string[];
declare const config: unknown;
export default config;
