// The library's settings (watching, excludes, find cropped copies) and the duplicate review's (thresholds, keeper
// rules, format preference, preferred folders), kept as JSON values in the `settings` table. Thresholds are stored
// per model: a cosine threshold only means something for the model whose vectors it was calibrated on.
import path from 'node:path';
import picomatch from 'picomatch';
import {
  DoppelError,
  KEEPER_RULES,
  type KeeperRule,
  type Settings,
  type SettingsUpdate,
  type ThresholdSource,
} from '../shared/api.js';
import type { Store } from './store/repository.js';
import { validateThresholds } from './duplicates/grouping.js';
import { DEFAULT_FORMAT_PREFERENCE, DEFAULT_KEEPER_RULES, type KeeperOptions } from './duplicates/keeper.js';
import type { CropViewsSetup } from './duplicates/scan.js';
import type { ModelCard } from './model/card.js';
import { viewsReady } from './model/view-predictor.js';
import { viewStretch } from './search/crop-views.js';

export interface ThresholdDefaults {
  near: number;
  similar: number;
  /** Whether the model card gave them (else they are Doppel's uncalibrated fallback). */
  fromModelCard: boolean;
  /** Whether the model card calibrated corner views (the findCroppedCopies setting needs them). */
  cropViews?: boolean;
}

const KEYS = {
  thresholds: (model: string) => `duplicates.thresholds.${model}`,
  keeperRules: 'duplicates.keeperRules',
  formatPreference: 'duplicates.formatPreference',
  preferredFolders: 'duplicates.preferredFolders',
  exclude: 'library.exclude',
  watch: 'library.watch',
  findCroppedCopies: (model: string) => `library.findCroppedCopies.${model}`,
} as const;

/** A stored JSON value, or undefined when absent or unreadable (an unreadable value falls back to the default). */
function readJson(store: Store, key: string): unknown {
  const raw = store.getSetting(key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function checkRules(rules: readonly string[]): KeeperRule[] {
  const known = new Set<string>(KEEPER_RULES);
  for (const r of rules) {
    if (!known.has(r)) {
      throw new DoppelError('invalid-argument', `Unknown keeper rule "${r}"; the rules are ${KEEPER_RULES.join(', ')}`);
    }
  }
  if (new Set(rules).size !== rules.length) throw new DoppelError('invalid-argument', 'A keeper rule is listed twice');
  return rules as KeeperRule[];
}

function checkFormats(formats: readonly string[]): string[] {
  const out = formats.map((f) => f.trim().toLowerCase()).filter(Boolean);
  return [...new Set(out)];
}

function checkFolders(folders: readonly string[]): string[] {
  return [...new Set(folders.filter((f) => f.trim() !== '').map((f) => path.resolve(f)))];
}

function checkGlobs(globs: readonly string[]): string[] {
  const out = globs.map((g) => g.trim()).filter(Boolean);
  for (const g of out) {
    try {
      picomatch.makeRe(g);
    } catch (err) {
      throw new DoppelError('invalid-argument', `Not a valid glob "${g}": ${(err as Error).message}`);
    }
  }
  return [...new Set(out)];
}

export function readSettings(store: Store, model: string, defaults: ThresholdDefaults): Settings {
  const t = readJson(store, KEYS.thresholds(model)) as { near?: unknown; similar?: unknown } | undefined;
  const isSet = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const num = (v: unknown, d: number): number => (isSet(v) ? v : d);
  const source = (v: unknown): ThresholdSource =>
    isSet(v) ? 'setting' : defaults.fromModelCard ? 'model-card' : 'fallback';
  const rules = readJson(store, KEYS.keeperRules);
  const formats = readJson(store, KEYS.formatPreference);
  const folders = readJson(store, KEYS.preferredFolders);
  const exclude = readJson(store, KEYS.exclude);
  const watch = readJson(store, KEYS.watch);
  const crops = readJson(store, KEYS.findCroppedCopies(model));
  let keeperRules: KeeperRule[] = [...DEFAULT_KEEPER_RULES];
  try {
    if (isStringArray(rules)) keeperRules = checkRules(rules);
  } catch {
    // a value from another version of Doppel: keep the defaults
  }
  return {
    nearThreshold: num(t?.near, defaults.near),
    similarThreshold: num(t?.similar, defaults.similar),
    keeperRules,
    formatPreference: isStringArray(formats) ? formats : [...DEFAULT_FORMAT_PREFERENCE],
    preferredFolders: isStringArray(folders) ? folders : [],
    exclude: isStringArray(exclude) ? exclude : [],
    watch: typeof watch === 'boolean' ? watch : true,
    // On unless turned off, where the model offers corner views.
    findCroppedCopies: crops !== false && defaults.cropViews === true,
    cropViewsAvailable: defaults.cropViews === true,
    defaults: { nearThreshold: defaults.near, similarThreshold: defaults.similar },
    sources: { nearThreshold: source(t?.near), similarThreshold: source(t?.similar) },
  };
}

/** Applies a partial update (null: back to the default) after checking the result; returns the new settings. */
export function updateSettings(
  store: Store,
  model: string,
  defaults: ThresholdDefaults,
  update: SettingsUpdate,
): Settings {
  const stored = (readJson(store, KEYS.thresholds(model)) ?? {}) as { near?: number; similar?: number };
  const thresholds = { ...stored };
  if (update.nearThreshold !== undefined) thresholds.near = update.nearThreshold ?? undefined;
  if (update.similarThreshold !== undefined) thresholds.similar = update.similarThreshold ?? undefined;
  validateThresholds(thresholds.near ?? defaults.near, thresholds.similar ?? defaults.similar);
  const rules = update.keeperRules === undefined ? undefined : update.keeperRules && checkRules(update.keeperRules);
  const formats =
    update.formatPreference === undefined
      ? undefined
      : update.formatPreference && checkFormats(update.formatPreference);
  const folders =
    update.preferredFolders === undefined
      ? undefined
      : update.preferredFolders && checkFolders(update.preferredFolders);
  const exclude = update.exclude === undefined ? undefined : update.exclude && checkGlobs(update.exclude);
  if (update.findCroppedCopies === true && defaults.cropViews !== true) {
    throw new DoppelError(
      'invalid-argument',
      `The model ${model} has no fitted and calibrated corner views, so finding cropped copies cannot be turned on`,
    );
  }
  const put = (key: string, value: unknown): void =>
    value === null ? store.deleteSetting(key) : store.setSetting(key, JSON.stringify(value));
  store.transaction(() => {
    if (thresholds.near === undefined && thresholds.similar === undefined) store.deleteSetting(KEYS.thresholds(model));
    else store.setSetting(KEYS.thresholds(model), JSON.stringify(thresholds));
    if (rules !== undefined) put(KEYS.keeperRules, rules);
    if (formats !== undefined) put(KEYS.formatPreference, formats);
    if (folders !== undefined) put(KEYS.preferredFolders, folders);
    if (exclude !== undefined) put(KEYS.exclude, exclude);
    if (update.watch !== undefined) put(KEYS.watch, update.watch);
    if (update.findCroppedCopies !== undefined) put(KEYS.findCroppedCopies(model), update.findCroppedCopies);
  });
  return readSettings(store, model, defaults);
}

export function keeperOptionsOf(settings: Settings): KeeperOptions {
  return {
    rules: settings.keeperRules,
    formatPreference: settings.formatPreference,
    preferredFolders: settings.preferredFolders,
  };
}

/** Thresholds used when neither the settings nor the model card give any. */
const FALLBACK_THRESHOLDS = { near: 0.97, similar: 0.9 };

/** The thresholds used while the settings set none: the model card's, else Doppel's fallback. */
export function thresholdDefaultsOf(card: ModelCard): ThresholdDefaults {
  const thresholds = card.thresholds;
  return {
    ...FALLBACK_THRESHOLDS,
    ...(thresholds ?? {}),
    fromModelCard: thresholds !== undefined,
    cropViews: thresholds !== undefined && viewsReady(card),
  };
}

/** The corner views in force: the card's calibration when the library finds cropped copies, else null. */
export function cropViewsOf(card: ModelCard, settings: Settings): CropViewsSetup | null {
  const views = card.cropViews;
  const near = card.thresholds?.near;
  if (!views || views.threshold === undefined || near === undefined || !viewsReady(card)) return null;
  if (!settings.findCroppedCopies) return null;
  const encoded = views.encodedThreshold;
  return {
    fraction: views.fraction,
    stretch: viewStretch(near, views.threshold),
    ...(encoded === undefined ? {} : { encodedStretch: viewStretch(near, encoded) }),
  };
}

/** One library's settings, with one model's thresholds and corner views. */
export class LibrarySettings {
  constructor(
    private readonly store: Store,
    private readonly card: ModelCard,
    /** The name the model's vectors (and so its thresholds) are stored under. */
    private readonly model: string,
  ) {}

  /** The thresholds used while the settings set none: the model card's, else Doppel's fallback. */
  defaults(): ThresholdDefaults {
    return thresholdDefaultsOf(this.card);
  }

  current(): Settings {
    return readSettings(this.store, this.model, this.defaults());
  }

  /** The thresholds in force: the settings' for this model, else the defaults. */
  thresholds(): { near: number; similar: number } {
    const s = this.current();
    return { near: s.nearThreshold, similar: s.similarThreshold };
  }

  /** The corner views in force (cropViewsOf). */
  cropViews(): CropViewsSetup | null {
    return cropViewsOf(this.card, this.current());
  }

  /** What a duplicate scan starts with: the thresholds, keeper rules and corner views in force. */
  forScans(): { near: number; similar: number; keeper: KeeperOptions; crops: CropViewsSetup | null } {
    const s = this.current();
    const crops = cropViewsOf(this.card, s);
    return { near: s.nearThreshold, similar: s.similarThreshold, keeper: keeperOptionsOf(s), crops };
  }

  update(update: SettingsUpdate): Settings {
    return updateSettings(this.store, this.model, this.defaults(), update);
  }
}
