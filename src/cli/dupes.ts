// The duplicate review on the command line: `dupes` (list, export, move to the trash), `undo`, `not-dupe`,
// `reference` (reference folders) and `config` (thresholds and keeper rules).
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  DoppelError,
  KEEPER_RULES,
  type DuplicateGroup,
  type DuplicateKind,
  type Settings,
  type SettingsUpdate,
} from '../shared/api.js';
import { formatLabel, RAW_FORMAT } from '../shared/formats.js';
import { scanProgressText } from '../shared/scan-progress.js';
import { formatSimilarity, parseSimilarity, SIMILARITY_MEANING } from '../shared/similarity.js';
import { groupsToCsv, groupsToJsonLines } from '../core/duplicates/export.js';
import type { DoppelService } from '../core/service.js';
import { printJson, StatusLine, terminalSafe } from './output.js';

/** The options every library command has (see withCommon in index.ts). */
export interface CommonOptions {
  db: string;
  models: string;
  model?: string;
  json?: boolean;
}

export interface CliHelpers {
  withCommon(cmd: Command, withDb?: boolean): Command;
  withService<T>(o: CommonOptions, fn: (s: DoppelService) => Promise<T>): Promise<T>;
}

function similarityOption(value: string): number {
  const n = parseSimilarity(value);
  if (n === null) throw new InvalidArgumentError('expected a similarity: a percentage (96.5%) or from -1 to 1');
  return n;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const percent = (score: number): string => formatSimilarity(score).padStart(7);

/** A library photo by its path as the user typed it (relative, or through a link). */
function photoIdOf(service: DoppelService, file: string): number {
  const abs = path.resolve(file);
  let real = abs;
  try {
    real = fs.realpathSync(abs);
  } catch {
    // a file that is gone may still be in the library under its old path
  }
  const photo = service.store.getPhotoByPath(real) ?? service.store.getPhotoByPath(abs);
  if (!photo) throw new DoppelError('not-found', `${file} is not a photo of the library`);
  return photo.id;
}

/** Whether `inner` is `outer` or lies below it. */
function isWithin(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function printGroupsText(groups: readonly DuplicateGroup[]): void {
  for (const g of groups) {
    out(`${g.kind} (keep ${terminalSafe(g.keeper)})`);
    for (const m of g.members) {
      const marks = [
        m.path === g.reference ? 'reference' : '',
        m.referenceFolder ? 'reference folder' : '',
        m.format === RAW_FORMAT ? formatLabel(m.format) : '',
      ]
        .filter(Boolean)
        .join(', ');
      out(`  ${m.keep ? 'keep' : '    '} ${percent(m.score)}  ${terminalSafe(m.path)}${marks ? `  (${marks})` : ''}`);
      // What the verifier saw this copy to be, against the photo kept: why the two are called duplicates.
      if (m.edits.length > 0) out(`                ${m.edits.join(', ')}`);
    }
  }
  out(`${groups.length} group(s)`);
}

/** Settings keys on the command line, each mapped to its Settings field. */
const CONFIG_KEYS = {
  'near-threshold': 'nearThreshold',
  'similar-threshold': 'similarThreshold',
  'keeper-rules': 'keeperRules',
  'format-preference': 'formatPreference',
  'preferred-folders': 'preferredFolders',
  exclude: 'exclude',
  watch: 'watch',
  'find-cropped-copies': 'findCroppedCopies',
} as const satisfies Record<string, Exclude<keyof Settings, 'defaults' | 'sources' | 'cropViewsAvailable'>>;
type ConfigKey = keyof typeof CONFIG_KEYS;

function configKey(key: string): ConfigKey {
  if (!(key in CONFIG_KEYS)) {
    throw new DoppelError(
      'invalid-argument',
      `Unknown setting "${key}"; the settings are ${Object.keys(CONFIG_KEYS).join(', ')}`,
    );
  }
  return key as ConfigKey;
}

/** The update that `config set <key> <values...>` asks for. Lists take several values or one comma list. */
function configUpdate(key: ConfigKey, values: string[]): SettingsUpdate {
  const field = CONFIG_KEYS[key];
  if (field === 'nearThreshold' || field === 'similarThreshold') {
    if (values.length !== 1) throw new DoppelError('invalid-argument', `${key} takes one similarity`);
    const n = parseSimilarity(values[0]!);
    if (n === null)
      throw new DoppelError('invalid-argument', `${key}: "${values[0]}" is not a similarity (96.5% or 0.965)`);
    return { [field]: n };
  }
  if (field === 'preferredFolders') return { preferredFolders: values.map((v) => path.resolve(v)) };
  // Globs may contain commas ({a,b}): one value per glob.
  if (field === 'exclude') return { exclude: values };
  if (field === 'watch' || field === 'findCroppedCopies') {
    const v = values.length === 1 ? values[0]!.toLowerCase() : '';
    if (['on', 'true', 'yes'].includes(v)) return { [field]: true };
    if (['off', 'false', 'no'].includes(v)) return { [field]: false };
    throw new DoppelError('invalid-argument', `${key} takes on or off`);
  }
  const list = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return field === 'keeperRules' ? { keeperRules: list as Settings['keeperRules'] } : { formatPreference: list };
}

function printSettings(s: Settings, json: boolean | undefined): void {
  if (json) return printJson(s);
  const show = (key: ConfigKey): string => {
    const v = s[CONFIG_KEYS[key]];
    return Array.isArray(v) ? v.join(',') : typeof v === 'number' ? formatSimilarity(v) : String(v);
  };
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) out(`${key.padEnd(18)} ${terminalSafe(show(key))}`);
  const { nearThreshold: near, similarThreshold: similar } = s.defaults;
  out(`(threshold defaults for this model: near ${formatSimilarity(near)}, similar ${formatSimilarity(similar)};`);
  out(` similarity: ${SIMILARITY_MEANING})`);
}

/**
 * The vector tiers listed whose threshold nobody calibrated for this model (no setting, no model card, no option):
 * moving files on such a threshold could remove photos that only look alike.
 */
async function uncalibratedTiers(
  service: DoppelService,
  o: { tier: DuplicateKind[]; near?: number; similar?: number },
): Promise<DuplicateKind[]> {
  const { sources } = await service.getSettings();
  const out: DuplicateKind[] = [];
  if (o.tier.includes('near') && o.near === undefined && sources.nearThreshold === 'fallback') out.push('near');
  if (o.tier.includes('similar') && o.similar === undefined && sources.similarThreshold === 'fallback') {
    out.push('similar');
  }
  return out;
}

export function registerDupes(program: Command, { withCommon, withService }: CliHelpers): void {
  withCommon(
    program
      .command('dupes')
      .description('groups of duplicate photos; export them, or move the extra copies to the trash')
      .addOption(
        new Option('--tier <tier...>', 'which tiers to list')
          .choices(['exact', 'near', 'similar'])
          .default(['exact', 'near']),
      )
      .addOption(new Option('--csv', 'CSV on stdout: a header, then one row per member').conflicts(['json', 'trash']))
      .option('--near <similarity>', 'near-duplicate threshold for this run (default: the setting)', similarityOption)
      .option('--similar <similarity>', 'similar-photo threshold for this run (default: the setting)', similarityOption)
      .option('--rescan', 'search the whole library again, even if nothing changed since the last scan', false)
      .option('--trash', "move every member that is not kept to the system trash (undo: 'doppel undo')", false)
      .option('--dry-run', 'with --trash: only print what would be moved', false),
  ).action(
    async (
      o: CommonOptions & {
        tier: DuplicateKind[];
        csv?: boolean;
        near?: number;
        similar?: number;
        rescan: boolean;
        trash: boolean;
        dryRun: boolean;
      },
      cmd: Command,
    ) => {
      if (o.dryRun && !o.trash) cmd.error('error: --dry-run goes with --trash', { exitCode: 2 });
      await withService(o, async (service) => {
        // Where a scan stands, on a terminal only (a first scan of a large library compares pairs for minutes).
        const status = new StatusLine(!process.stderr.isTTY);
        const unsubscribe = service.on('duplicateScan', (p) => {
          const text = scanProgressText(p);
          if (text) status.update(`doppel: ${text}`);
          else status.done();
        });
        const groups = await service
          .findDuplicates({ kinds: o.tier, nearThreshold: o.near, similarThreshold: o.similar, rescan: o.rescan })
          .finally(() => {
            unsubscribe();
            status.done();
          });
        if (!o.trash) {
          if (o.csv) process.stdout.write(groupsToCsv(groups));
          else if (o.json) process.stdout.write(groupsToJsonLines(groups));
          else {
            printGroupsText(groups);
            if (service.lastScan?.stored) {
              process.stderr.write(
                "doppel: nothing changed since the last scan: its groups ('--rescan' searches the library again)\n",
              );
            }
          }
          return;
        }
        const uncalibrated = await uncalibratedTiers(service, o);
        if (uncalibrated.length > 0) {
          const message =
            `the ${uncalibrated.join(' and ')} threshold is Doppel's fallback, not calibrated for the model ` +
            `${service.model.name}: check the groups, then set one with 'doppel config set near-threshold <x>' ` +
            `(or similar-threshold), or pass --near/--similar`;
          if (!o.dryRun) throw new DoppelError('invalid-argument', `Refusing to move files to the trash: ${message}`);
          process.stderr.write(`doppel: warning: ${message}\n`);
        }
        // Look-alikes are not verified to be the same photo: --trash never moves them.
        const ids = groups
          .filter((g) => g.kind !== 'similar')
          .flatMap((g) => g.members.filter((m) => !m.keep).map((m) => m.photoId));
        if (groups.some((g) => g.kind === 'similar')) {
          process.stderr.write(
            'doppel: look-alikes are not moved by --trash (they are not verified to be the same photo); ' +
              'review them in the app\n',
          );
        }
        const report = await service.trashPhotos(ids, { dryRun: o.dryRun });
        if (o.json) return printJson(report);
        for (const f of report.files)
          out(`${o.dryRun ? 'would move to the trash' : 'moved to the trash'}: ${terminalSafe(f.path)}`);
        for (const s of report.skipped) out(`skipped ${terminalSafe(`${s.path}: ${s.reason}`)}`);
        const n = report.files.length;
        if (o.dryRun) out(`${n} file(s) would be moved to the trash (dry run: nothing changed)`);
        else if (report.undoable) out(`${n} file(s) moved to the trash; 'doppel undo' puts them back`);
        else out(`${n} file(s) moved to the trash. ${report.undoNote ?? ''}`.trim());
      });
    },
  );

  withCommon(
    program.command('undo').description('put the files of the last trash action back and index them again'),
  ).action(async (o: CommonOptions) => {
    await withService(o, async (service) => {
      const report = await service.undoLastAction();
      if (o.json) printJson(report);
      else {
        for (const p of report.restored) out(`put back: ${terminalSafe(p)}`);
        for (const f of report.failed) out(`not put back: ${terminalSafe(`${f.path}: ${f.reason}`)}`);
        out(`${report.restored.length} file(s) put back, ${report.reindexed} indexed again`);
      }
      if (report.failed.length > 0) {
        const next =
          report.retried > 0
            ? `'doppel undo' retries ${report.retried} of them`
            : 'restore them from the trash yourself; the next undo goes on to the action before';
        throw new DoppelError('io', `${report.failed.length} file(s) could not be put back; ${next}`);
      }
    });
  });

  withCommon(
    program
      .command('not-dupe')
      .description('remember that two photos are not duplicates (kept out of the same group from now on)')
      .argument('<photoA>', 'a photo of the library')
      .argument('<photoB>', 'another photo of the library')
      .option('--forget', 'forget the answer instead', false),
  ).action(async (a: string, b: string, o: CommonOptions & { forget: boolean }) => {
    await withService(o, async (service) => {
      const [ida, idb] = [photoIdOf(service, a), photoIdOf(service, b)];
      if (o.forget) await service.clearNotDuplicate(ida, idb);
      else await service.markNotDuplicate(ida, idb);
      if (o.json) printJson({ a: path.resolve(a), b: path.resolve(b), notDuplicate: !o.forget });
      else out(o.forget ? 'Forgotten: they may be grouped again.' : 'Remembered: not duplicates.');
    });
  });

  withCommon(
    program
      .command('reference')
      .description('mark library folders as reference folders: their photos are always kept')
      .argument('<folder...>', 'library folders, or folders inside them')
      .option('--off', 'unmark them instead', false),
  ).action(async (folders: string[], o: CommonOptions & { off: boolean }) => {
    await withService(o, async (service) => {
      for (const f of folders) {
        let real: string;
        try {
          real = fs.realpathSync(path.resolve(f));
        } catch {
          real = path.resolve(f);
        }
        const inside = (outer: string): boolean => outer !== real && isWithin(outer, real);
        let folder = service.store.getFolderByPath(real);
        // A folder inside a library folder becomes a library folder of its own, holding the photos below it.
        if (!folder && (await service.listFolders()).some((lib) => inside(lib.path))) {
          folder = await service.addFolder(real);
        }
        if (!folder) {
          throw new DoppelError('not-found', `${f} is not inside a folder of the library (add it with 'doppel index')`);
        }
        const updated = await service.setReferenceFolder(folder.id, !o.off);
        if (o.json) printJson(updated);
        else out(`${terminalSafe(updated.path)}: ${updated.reference ? 'reference folder' : 'not a reference folder'}`);
      }
    });
  });

  const config = program
    .command('config')
    .description(`show or change settings: ${Object.keys(CONFIG_KEYS).join(', ')}`);
  withCommon(config.command('list', { isDefault: true }).description('show every setting')).action(
    async (o: CommonOptions) => {
      await withService(o, async (service) => printSettings(await service.getSettings(), o.json));
    },
  );
  withCommon(
    config
      .command('set')
      .description(`change a setting; keeper-rules is a list of ${KEEPER_RULES.join(', ')}`)
      .argument('<key>', 'setting')
      .argument('<value...>', 'value(s); lists take several values or one comma-separated value'),
  ).action(async (key: string, values: string[], o: CommonOptions) => {
    await withService(o, async (service) =>
      printSettings(await service.updateSettings(configUpdate(configKey(key), values)), o.json),
    );
  });
  withCommon(
    config.command('unset').description('put a setting back to its default').argument('<key>', 'setting'),
  ).action(async (key: string, o: CommonOptions) => {
    await withService(o, async (service) =>
      printSettings(await service.updateSettings({ [CONFIG_KEYS[configKey(key)]]: null }), o.json),
    );
  });
}
