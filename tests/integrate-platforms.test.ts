// The Windows and macOS file-manager entries, which cannot run here (no Explorer, no Finder): generated from
// src/core/integrate (windows.ts, macos.ts) and checked as files. The NSIS include is read as NSIS would run it
// (each WriteRegStr and DeleteRegKey applied to a registry of its own), the verb's command line split as Windows
// splits it with a selected file's name in %1; the plists parse (the `plist` package electron-builder uses) and the
// Quick Action's shell script runs under /bin/sh with a stub for `open`, with names holding spaces, quotes, `$` and
// non-ASCII letters.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS } from '../src/core/library/scan.js';
import { installerFiles, installerNote, MAC_RESOURCES, NSIS_INCLUDE } from '../src/core/integrate/installers.js';
import { ACTION_NAME } from '../src/core/integrate/linux.js';
import {
  imageUtis,
  MAC_BUNDLE_ID,
  MAC_SCRIPT,
  macWorkflowFiles,
  UTI_TYPES,
  WORKFLOW_NAME,
} from '../src/core/integrate/macos.js';
import { nsisInclude, verbKey, WINDOWS_COMMAND } from '../src/core/integrate/windows.js';
import { REPO, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const plist = require('plist') as { parse(xml: string): unknown };
const yaml = require('js-yaml') as { load(text: string): unknown };

const tmp = tempDir('doppel-integrate-platforms-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The arguments of an NSIS instruction line: words, or strings in ', " or ` quotes (no escapes inside them). */
function nsisWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|`([^`]*)`|(\S+)/g;
  for (const m of line.trim().matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  return words;
}

interface Macro {
  name: string;
  lines: string[][];
}

function macros(script: string): Macro[] {
  const out: Macro[] = [];
  let current: Macro | null = null;
  for (const raw of script.split('\r\n')) {
    const line = raw.trim();
    if (!line || line.startsWith(';')) continue;
    const words = nsisWords(line);
    if (words[0] === '!macro') {
      expect(current, 'a !macro inside a !macro').toBeNull();
      current = { name: words[1]!, lines: [] };
    } else if (words[0] === '!macroend') {
      expect(current).not.toBeNull();
      out.push(current!);
      current = null;
    } else {
      expect(current, `an instruction outside the macros: ${line}`).not.toBeNull();
      current!.lines.push(words);
    }
  }
  expect(current, 'a !macro without !macroend').toBeNull();
  return out;
}

/** Runs a macro's registry instructions against `registry` (key -> value name -> data). */
function run(macro: Macro, registry: Map<string, Map<string, string>>): void {
  for (const [op, root, key, ...rest] of macro.lines) {
    if (op === 'System::Call') continue;
    expect(root, `${op} writes to ${root}`).toBe('SHCTX');
    if (op === 'WriteRegStr') {
      expect(rest).toHaveLength(2);
      const values = registry.get(key!) ?? new Map<string, string>();
      values.set(rest[0]!, rest[1]!);
      registry.set(key!, values);
    } else if (op === 'DeleteRegKey') {
      for (const k of [...registry.keys()]) if (k === key || k.startsWith(`${key}\\`)) registry.delete(k);
    } else {
      throw new Error(`unexpected NSIS instruction ${op}`);
    }
  }
}

/** A Windows command line split into arguments as CommandLineToArgvW does (no `"` in file names on Windows). */
function windowsArgv(line: string): string[] {
  const args: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (const m of line.matchAll(re)) args.push(m[1] ?? m[2]!);
  return args;
}

describe('Windows: the NSIS include of the Explorer verb', () => {
  const script = nsisInclude();
  const [install, uninstall] = ['customInstall', 'customUnInstall'].map((name) => {
    const found = macros(script).find((m) => m.name === name);
    expect(found, `!macro ${name}`).toBeDefined();
    return found!;
  });

  it('adds the verb for every image type Doppel indexes and uninstall removes exactly what install added', () => {
    const registry = new Map<string, Map<string, string>>();
    run(install!, registry);
    const expected = [...IMAGE_EXTENSIONS].flatMap((ext) => [verbKey(ext), `${verbKey(ext)}\\command`]);
    expect([...registry.keys()].sort()).toEqual(expected.sort());
    for (const ext of IMAGE_EXTENSIONS) {
      expect(verbKey(ext)).toBe(`Software\\Classes\\SystemFileAssociations\\${ext}\\shell\\Doppel.FindSimilar`);
      expect(registry.get(verbKey(ext))?.get('')).toBe(ACTION_NAME);
      expect(registry.get(`${verbKey(ext)}\\command`)?.get('')).toBe(WINDOWS_COMMAND);
    }
    // Uninstall deletes one key per type, the verb's own (with its command below it), and nothing else.
    const deleted = uninstall!.lines.filter((l) => l[0] === 'DeleteRegKey').map((l) => l[2]);
    expect(deleted.sort()).toEqual([...IMAGE_EXTENSIONS].map(verbKey).sort());
    run(uninstall!, registry);
    expect([...registry.keys()]).toEqual([]);
  });

  it('writes for the user in a per-user install: SHCTX, which is HKCU unless the install is per-machine', () => {
    for (const line of [...install!.lines, ...uninstall!.lines])
      if (line[0] !== 'System::Call') expect(line[1]).toBe('SHCTX');
    expect(script).not.toMatch(/\bHK(LM|CR|EY_LOCAL_MACHINE|EY_CLASSES_ROOT)\b/);
    // electron-builder's assisted installer defaults to per-user (perMachine unset or false).
    const config = yaml.load(fs.readFileSync(path.join(REPO, 'electron-builder.yml'), 'utf8')) as {
      nsis: { perMachine?: boolean; include?: string; oneClick?: boolean };
    };
    expect(config.nsis.perMachine ?? false).toBe(false);
    expect(config.nsis.include).toBe(NSIS_INCLUDE);
  });

  it('runs the installed app with the selected file as one argument, %1 in quotes', () => {
    expect(WINDOWS_COMMAND).toBe('"$INSTDIR\\${APP_EXECUTABLE_FILENAME}" --find-similar "%1"');
    // What Explorer runs for C:\Users\Zoë\My Photos\it's $5 & 50%.jpg, the NSIS variables as installed.
    const file = "C:\\Users\\Zoë\\My Photos\\it's $5 & 50%.jpg";
    const line = WINDOWS_COMMAND.replace('$INSTDIR', 'C:\\Users\\Zoë\\AppData\\Local\\Programs\\Doppel')
      .replace('${APP_EXECUTABLE_FILENAME}', 'Doppel.exe')
      .replace('%1', file);
    expect(windowsArgv(line)).toEqual([
      'C:\\Users\\Zoë\\AppData\\Local\\Programs\\Doppel\\Doppel.exe',
      '--find-similar',
      file,
    ]);
  });
});

describe('macOS: the Finder Quick Action', () => {
  const files = new Map(macWorkflowFiles().map((f) => [f.path, f.content]));
  const info = plist.parse(files.get(`${WORKFLOW_NAME}/Contents/Info.plist`)!) as {
    NSServices: {
      NSMenuItem: { default: string };
      NSMessage: string;
      NSSendFileTypes: string[];
      NSRequiredContext: unknown;
    }[];
  };
  const document = plist.parse(files.get(`${WORKFLOW_NAME}/Contents/document.wflow`)!) as {
    actions: { action: { BundleIdentifier: string; ActionParameters: Record<string, unknown> } }[];
    workflowMetaData: Record<string, unknown>;
  };

  it('is a bundle of Info.plist and document.wflow, both plists that parse', () => {
    expect([...files.keys()].sort()).toEqual([
      `${WORKFLOW_NAME}/Contents/Info.plist`,
      `${WORKFLOW_NAME}/Contents/document.wflow`,
    ]);
    for (const content of files.values()) {
      expect(content).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist /);
      expect(() => plist.parse(content)).not.toThrow();
    }
  });

  it('offers "Find similar photos" in the Finder for the image types Doppel indexes', () => {
    expect(info.NSServices).toHaveLength(1);
    const service = info.NSServices[0]!;
    expect(service.NSMenuItem.default).toBe(ACTION_NAME);
    expect(service.NSMessage).toBe('runWorkflowAsService');
    expect(service.NSRequiredContext).toEqual({ NSApplicationIdentifier: 'com.apple.finder' });
    for (const ext of IMAGE_EXTENSIONS) expect(service.NSSendFileTypes).toContain(UTI_TYPES[ext]);
    expect(service.NSSendFileTypes).toEqual(imageUtis());
    expect(() => imageUtis(['.xyz'])).toThrow(/no UTI for \.xyz/);
    expect(document.workflowMetaData.workflowTypeIdentifier).toBe('com.apple.Automator.servicesMenu');
    expect(document.workflowMetaData.serviceInputTypeIdentifier).toBe('com.apple.Automator.fileSystemObject.image');
  });

  it('runs a shell script that passes the selected files as "$@", each one argument', () => {
    expect(document.actions).toHaveLength(1);
    const { BundleIdentifier, ActionParameters } = document.actions[0]!.action;
    expect(BundleIdentifier).toBe('com.apple.RunShellScript');
    expect(ActionParameters.COMMAND_STRING).toBe(MAC_SCRIPT);
    expect(ActionParameters.inputMethod).toBe(1); // the input as arguments, not on stdin
    expect(MAC_SCRIPT).toContain('"$@"');
    expect(MAC_SCRIPT).toContain(`-b ${MAC_BUNDLE_ID} --args --find-similar "$@"`);
    // Run it as Automator does (the shell, the files as arguments), with a stub in place of /usr/bin/open.
    const stub = path.join(tmp, 'open');
    const record = path.join(tmp, 'argv.json');
    fs.writeFileSync(
      stub,
      `#!${process.execPath}\nrequire('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));\n`,
      { mode: 0o755 },
    );
    const names = ['/Users/zoë/Pictures/it\'s "$HOME" & `x`.jpg', '/Users/zoë/My Photos/IMG 0001.HEIC', '/tmp/-n.png'];
    const script = MAC_SCRIPT.replace('/usr/bin/open', stub);
    expect(script).not.toBe(MAC_SCRIPT);
    const r = spawnSync(String(ActionParameters.shell), ['-c', script, 'sh', ...names], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(record, 'utf8'))).toEqual([
      '-n',
      '-b',
      MAC_BUNDLE_ID,
      '--args',
      '--find-similar',
      ...names,
    ]);
  });
});

describe('the installers take the generated files', () => {
  it("writes them where electron-builder.yml's nsis.include and mac.extraResources look", () => {
    const config = yaml.load(fs.readFileSync(path.join(REPO, 'electron-builder.yml'), 'utf8')) as {
      nsis: { include: string };
      mac: { extraResources: { from: string; to: string }[] };
    };
    const paths = installerFiles().map((f) => f.path);
    expect(paths).toContain(config.nsis.include);
    expect(config.mac.extraResources.map((r) => r.from)).toContain(MAC_RESOURCES);
    expect(paths.filter((p) => p.startsWith(`${MAC_RESOURCES}/`))).toHaveLength(2);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.dist).toMatch(/scripts\/installer-files\.ts.*electron-builder/);
  });

  it('makes `doppel integrate status` say what the installer provides off Linux', () => {
    expect(installerNote('linux')).toBeNull();
    for (const platform of ['win32', 'darwin'] as const) {
      const note = installerNote(platform)!;
      expect(note).toContain(ACTION_NAME);
      for (const ext of IMAGE_EXTENSIONS) expect(note).toContain(ext);
    }
    expect(installerNote('darwin')).toContain(`Doppel.app/Contents/Resources/${WORKFLOW_NAME}`);
    expect(installerNote('freebsd')).toMatch(/Linux only/);
  });
});
