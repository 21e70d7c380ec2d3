// `doppel integrate install | remove | status`: "Find similar photos" in the file managers' menus (Linux: the app's
// desktop entry, Nautilus, Nemo, Caja, Dolphin, Thunar). The commander wiring only: src/core/integrate holds what
// the CLI and the desktop app share (install.ts: what is written where; target.ts: what the entries run). On
// Windows and macOS the installers carry the entries (installers.ts): status says so.
import type { Command } from 'commander';
import { DoppelError } from '../../shared/api.js';
import { findProjectRoot } from '../../core/paths.js';
import { printJson, terminalSafe } from '../output.js';
import { install, remove, status, type Outcome } from '../../core/integrate/install.js';
import { installerNote } from '../../core/integrate/installers.js';
import { xdgDirs } from '../../core/integrate/linux.js';
import { displayCommand } from '../../core/integrate/quote.js';
import { resolveTarget, type Target } from '../../core/integrate/target.js';

interface IntegrateOptions {
  app?: string;
  json?: boolean;
}

function linuxOnly(): void {
  if (process.platform !== 'linux') {
    throw new DoppelError(
      'invalid-argument',
      `doppel integrate installs file-manager entries on Linux only (this is ${process.platform}); ` +
        '`doppel integrate status` says what the installer provides instead',
    );
  }
}

function target(o: IntegrateOptions): Target {
  return resolveTarget({ app: o.app, projectRoot: findProjectRoot(), nodePath: process.execPath });
}

function print(outcome: Outcome, json: boolean | undefined, extra: Record<string, unknown> = {}): void {
  if (json) return printJson({ ...extra, ...outcome });
  for (const line of outcome.done) process.stdout.write(`${terminalSafe(line)}\n`);
  for (const line of outcome.warnings) process.stderr.write(`doppel: ${terminalSafe(line)}\n`);
}

export function registerIntegrate(program: Command): void {
  const integrate = program
    .command('integrate')
    .description('add "Find similar photos" to the file managers\' menus (Linux), or take it out again');

  integrate
    .command('install')
    .description(
      'write the app entry, a Nautilus and a Caja script, a Nemo action, a Dolphin service menu and a Thunar action ' +
        '(under $XDG_DATA_HOME and $XDG_CONFIG_HOME); running it again gives the same files',
    )
    .option(
      '--app <path>',
      'the executable the entries run as `<path> --find-similar <files...>` (default: the desktop app, else `doppel find-similar`)',
    )
    .option('--json', 'machine-readable output on stdout', false)
    .action((o: IntegrateOptions) => {
      linuxOnly();
      const t = target(o);
      const outcome = install(xdgDirs(), t);
      print(outcome, o.json, { command: t.command, what: t.what });
      if (!o.json) process.stdout.write(`the entries run: ${terminalSafe(displayCommand(t.command))} <files...>\n`);
    });

  integrate
    .command('remove')
    .description('delete what `doppel integrate install` wrote (and only that)')
    .option('--json', 'machine-readable output on stdout', false)
    .action((o: IntegrateOptions) => {
      linuxOnly();
      print(remove(xdgDirs()), o.json);
    });

  integrate
    .command('status')
    .description('what is installed where, and what the entries run')
    .option('--app <path>', 'as for install: the command shown when nothing is installed')
    .option('--json', 'machine-readable output on stdout', false)
    .action((o: IntegrateOptions) => {
      const note = installerNote(process.platform);
      if (note) {
        if (o.json) return printJson({ installed: false, platform: process.platform, note });
        return void process.stdout.write(`${terminalSafe(note)}\n`);
      }
      const s = status(xdgDirs(), target(o));
      if (o.json) return printJson(s);
      const out = (line: string): void => void process.stdout.write(`${terminalSafe(line)}\n`);
      out(s.installed ? `installed (manifest: ${s.manifest})` : 'not installed');
      for (const e of s.entries) out(`  ${e.state.padEnd(13)} ${e.for}: ${e.path}`);
      if (s.command) out(`the entries run: ${displayCommand(s.command)} <files...> (${s.what})`);
      else {
        const t = target(o);
        out(`install would make them run: ${displayCommand(t.command)} <files...> (${t.what})`);
      }
    });
}
