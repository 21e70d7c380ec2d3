// `doppel integrate install | remove | status` (the built CLI) with the XDG folders in a temporary home: every
// file written, the desktop entries validated by desktop-file-validate, and each file manager's entry run for real
// with selected files whose names hold spaces, quotes, `$`, backslashes, `%` and non-ASCII letters, against a
// recording stub (--app) whose own path holds them too. How each entry is run:
// - the app's desktop entry, its "Find similar photos" action and Dolphin's action: by GLib (`gio launch`), the
//   Desktop Entry Exec rules (%F expanded, quoting undone);
// - Nemo: %F expanded as Nemo 5/6 does with Quote=double (each path in double quotes, " and \ escaped), then the
//   line split by GLib as Nemo's g_spawn_command_line_async does (through `gio launch`);
// - Thunar: the <command> read with an XML parser of its own, %F expanded as Thunar does (each path g_shell_quote'd)
//   and run with /bin/sh -c;
// - the Nautilus and Caja scripts: run with their variables (NAUTILUS_SCRIPT_SELECTED_FILE_PATHS, ...) and with
//   arguments relative to the current folder.
// desktop-file-validate (Debian: desktop-file-utils) and gio (libglib2.0-bin) are installed by .ci/run; where one is
// missing, the tests that need it are skipped and say why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS } from '../src/core/library/scan.js';
import { imageMimeTypes } from '../src/core/integrate/linux.js';
import { fileTree as tree, REPO, tempDir } from './helpers.js';

const CLI = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-integrate-');
const home = path.join(tmp, 'home');
const data = path.join(home, '.local', 'share');
const config = path.join(home, '.config');
// The stub's own path: what the entries run, quoted in each file's own way. (Not a '%': GLib looks the program of
// an Exec line up before it expands %%, and refuses the entry.)
const stubDir = path.join(tmp, `tools l'outil "$HOME" \\ \`x\` été`);
const stub = path.join(stubDir, 'record');
const record = path.join(tmp, 'record.out');
const photos = path.join(tmp, 'photos');
const SELECTED = [
  path.join(photos, 'été 2024', 'IMG 1.jpg'),
  path.join(photos, 'été 2024', `it's "quoted" $HOME \`date\` back\\slash.jpg`),
  path.join(photos, '100% #1 (copy) & more; ~x.jpeg'),
];

const FILES = {
  app: path.join(data, 'applications', 'doppel.desktop'),
  nautilus: path.join(data, 'nautilus', 'scripts', 'Find similar photos'),
  nemo: path.join(data, 'nemo', 'actions', 'doppel-find-similar.nemo_action'),
  caja: path.join(config, 'caja', 'scripts', 'Find similar photos'),
  dolphin: path.join(data, 'kio', 'servicemenus', 'doppel-find-similar.desktop'),
  thunar: path.join(config, 'Thunar', 'uca.xml'),
  manifest: path.join(data, 'doppel', 'integration.json'),
};

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}
const VALIDATE = has('desktop-file-validate') ? null : 'desktop-file-validate is missing (Debian: desktop-file-utils)';
const GIO = has('gio') ? null : 'gio is missing (Debian: libglib2.0-bin)';

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  HOME: home,
  XDG_DATA_HOME: data,
  XDG_CONFIG_HOME: config,
  DOPPEL_STUB_OUT: record,
});

function doppel(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: env(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function install(): void {
  const r = doppel('integrate', 'install', '--app', stub);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
}

/** What the stub was last run with, waiting for it (gio launch does not wait for the program it starts). */
async function recorded(): Promise<string[]> {
  for (let i = 0; i < 200 && !fs.existsSync(record); i++) await new Promise((r) => setTimeout(r, 50));
  const raw = fs.readFileSync(record, 'utf8');
  fs.rmSync(record);
  return raw.split('\0').slice(0, -1);
}

/** A key-file value as readers get it (the string escapes undone). */
function keyFileValue(file: string, group: string, key: string): string {
  let current = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const g = /^\[(.*)\]$/.exec(line);
    if (g) current = g[1]!;
    else if (current === group && line.startsWith(`${key}=`)) return line.slice(key.length + 1);
  }
  throw new Error(`${file}: no ${key} in [${group}]`);
}

function unescapeKeyFile(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' })[c] ?? `\\${c}`);
}

/** Runs a desktop entry's Exec value (as written in the file) with `files`, by GLib: `gio launch`. */
function launchExec(rawExec: string, files: readonly string[]): void {
  const entry = path.join(tmp, 'launch.desktop');
  fs.writeFileSync(entry, `[Desktop Entry]\nType=Application\nName=launch\nExec=${rawExec}\n`);
  const r = spawnSync('gio', ['launch', entry, ...files], { env: env(), encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
}

/** A command line split the way GLib's g_shell_parse_argv does (what Nemo's g_spawn_command_line_async runs). */
function spawnCommandLine(commandLine: string): void {
  const escaped = commandLine.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  launchExec(escaped, []);
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

beforeAll(() => {
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(stubDir, { recursive: true });
  fs.writeFileSync(
    stub,
    '#!/bin/sh\n: > "$DOPPEL_STUB_OUT.tmp"\nfor a in "$@"; do printf \'%s\\0\' "$a" >> "$DOPPEL_STUB_OUT.tmp"; done\nmv "$DOPPEL_STUB_OUT.tmp" "$DOPPEL_STUB_OUT"\n',
    { mode: 0o755 },
  );
  for (const file of SELECTED) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'not really a photo');
  }
  if (VALIDATE) console.warn(`skipping the desktop-file-validate checks: ${VALIDATE}`);
  if (GIO) console.warn(`skipping the runs of desktop entries and Nemo's action: ${GIO}`);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('doppel integrate on Linux', () => {
  beforeEach(() => {
    doppel('integrate', 'remove');
    fs.rmSync(record, { force: true });
  });

  it('install writes each file manager its entry, the scripts and service menu executable, and a manifest', () => {
    install();
    for (const file of Object.values(FILES)) expect(fs.existsSync(file), file).toBe(true);
    const mode = (f: string): number => fs.statSync(f).mode & 0o777;
    expect([FILES.nautilus, FILES.caja, FILES.dolphin].map(mode)).toEqual([0o755, 0o755, 0o755]);
    expect([FILES.app, FILES.nemo].map(mode)).toEqual([0o644, 0o644]);
    const manifest = JSON.parse(fs.readFileSync(FILES.manifest, 'utf8')) as { command: string[]; files: unknown[] };
    expect(manifest.command).toEqual([stub, '--find-similar']);
    expect(manifest.files).toHaveLength(5);

    const status = doppel('integrate', 'status', '--json');
    const s = JSON.parse(status.stdout) as { installed: boolean; entries: { path: string; state: string }[] };
    expect(s.installed).toBe(true);
    expect(s.entries.map((e) => e.state)).toEqual(Array(6).fill('installed'));
    expect(s.entries.map((e) => e.path).sort()).toEqual(
      [FILES.app, FILES.nautilus, FILES.nemo, FILES.caja, FILES.dolphin, FILES.thunar].sort(),
    );
  });

  it('the desktop entries name every image type Doppel indexes', () => {
    install();
    const types = imageMimeTypes();
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types).size).toBe(types.length);
    expect(IMAGE_EXTENSIONS.size).toBeGreaterThanOrEqual(types.length);
    for (const file of [FILES.app, FILES.dolphin]) {
      expect(keyFileValue(file, 'Desktop Entry', 'MimeType')).toBe(`${types.join(';')};`);
    }
    expect(keyFileValue(FILES.nemo, 'Nemo Action', 'Mimetypes')).toBe(`${types.join(';')};`);
  });

  it('desktop-file-validate accepts the app entry, and of the Dolphin service menu all but the KDE-only keys', (ctx) => {
    if (VALIDATE) return ctx.skip();
    install();
    const validate = (file: string): string[] =>
      spawnSync('desktop-file-validate', [file], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(validate(FILES.app)).toEqual([]);
    // desktop-file-validate knows the types Application, Link and Directory: a KDE service menu (Type=Service)
    // gets exactly these two errors; its [Desktop Action] group, and its Exec line, pass.
    expect(validate(FILES.dolphin)).toEqual([
      `${FILES.dolphin}: error: key "MimeType" is present in group "Desktop Entry", but the type is "Service" while this key is only valid for type "Application"`,
      `${FILES.dolphin}: error: key "Actions" is present in group "Desktop Entry", but the type is "Service" while this key is only valid for type "Application"`,
    ]);
  });

  it('the app entry and its "Find similar photos" action run the app with exactly the selected files (GLib)', async (ctx) => {
    if (GIO) return ctx.skip();
    install();
    const r = spawnSync('gio', ['launch', FILES.app, ...SELECTED], { env: env(), encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);

    launchExec(keyFileValue(FILES.app, 'Desktop Action find-similar', 'Exec'), SELECTED);
    expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);
  });

  it("Dolphin's service menu runs the app with exactly the selected files (the Exec rules, by GLib)", async (ctx) => {
    if (GIO) return ctx.skip();
    install();
    launchExec(keyFileValue(FILES.dolphin, 'Desktop Action findSimilar', 'Exec'), SELECTED);
    expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);
  });

  it("Nemo's action runs the app with exactly the selected files (%F as Nemo expands it, split by GLib)", async (ctx) => {
    if (GIO) return ctx.skip();
    install();
    expect(keyFileValue(FILES.nemo, 'Nemo Action', 'Quote')).toBe('double');
    const exec = unescapeKeyFile(keyFileValue(FILES.nemo, 'Nemo Action', 'Exec'));
    const paths = SELECTED.map((p) => `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(' ');
    const expanded = exec.replace(/%(.)/g, (whole, c: string) => (c === 'F' ? paths : c === '%' ? '%' : whole));
    spawnCommandLine(expanded);
    expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);
  });

  it("Thunar's action runs the app with exactly the selected files (%F quoted as Thunar does, /bin/sh -c)", async () => {
    install();
    const doc = new DOMParser({
      errorHandler: {
        warning: (m: string) => {
          throw new Error(m);
        },
        error: (m: string) => {
          throw new Error(m);
        },
        fatalError: (m: string) => {
          throw new Error(m);
        },
      },
    }).parseFromString(fs.readFileSync(FILES.thunar, 'utf8'), 'text/xml');
    const actions = [...Array.from(doc.getElementsByTagName('action'))];
    const ours = actions.filter((a) => a.getElementsByTagName('unique-id')[0]?.textContent === 'doppel-find-similar');
    expect(ours).toHaveLength(1);
    const command = ours[0]!.getElementsByTagName('command')[0]!.textContent!;
    const expanded = command.replace(/%(.)/g, (whole, c: string) =>
      c === 'F' ? SELECTED.map(shellQuote).join(' ') : c === '%' ? '%' : whole,
    );
    const r = spawnSync('/bin/sh', ['-c', expanded], { env: env(), encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);
    expect(ours[0]!.getElementsByTagName('patterns')[0]!.textContent).toContain('*.jpg;*.JPG');
  });

  for (const [manager, variable] of [
    ['nautilus', 'NAUTILUS_SCRIPT_SELECTED_FILE_PATHS'],
    ['caja', 'CAJA_SCRIPT_SELECTED_FILE_PATHS'],
  ] as const) {
    it(`the ${manager} script runs the app with exactly the selection: from ${variable}, or its arguments`, async () => {
      install();
      const script = FILES[manager];
      const run = (args: string[], cwd: string, extra: Record<string, string>): void => {
        const r = spawnSync(script, args, { cwd, env: { ...env(), ...extra }, encoding: 'utf8' });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      };
      // The variable: one path a line, as the file manager sets it (a line break after the last one).
      run([], tmp, { [variable]: `${SELECTED.join('\n')}\n` });
      expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);
      // Arguments: names relative to the folder shown, which is the current folder.
      const folder = path.dirname(SELECTED[0]!);
      const here = SELECTED.filter((f) => path.dirname(f) === folder);
      run(
        here.map((f) => path.basename(f)),
        folder,
        {},
      );
      expect(await recorded()).toEqual(['--find-similar', ...here]);
      // Absolute arguments are kept as they are.
      run([...SELECTED], tmp, {});
      expect(await recorded()).toEqual(['--find-similar', ...SELECTED]);
    });
  }

  it("Thunar: the user's actions stay byte for byte through install, install again and remove", () => {
    const user = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<actions>',
      '<action>',
      '\t<icon>utilities-terminal</icon>',
      '\t<name>Open Terminal Here</name>',
      '\t<unique-id>1699999999999999-1</unique-id>',
      "\t<command>exo-open --working-directory %f --launch TerminalEmulator &amp;&amp; echo 'été'</command>",
      '\t<description>Example for a custom action</description>',
      '\t<patterns>*</patterns>',
      '\t<startup-notify/>',
      '\t<directories/>',
      '</action>',
      '<!-- a comment of the user -->',
      '</actions>',
      '',
    ].join('\n');
    fs.mkdirSync(path.dirname(FILES.thunar), { recursive: true });
    fs.writeFileSync(FILES.thunar, user, { mode: 0o600 });
    install();
    const installed = fs.readFileSync(FILES.thunar, 'utf8');
    expect(installed.startsWith(user.slice(0, user.indexOf('</actions>')))).toBe(true);
    expect(installed).toContain('<unique-id>doppel-find-similar</unique-id>');
    expect(installed.endsWith('</action>\n</actions>\n')).toBe(true);
    expect(fs.statSync(FILES.thunar).mode & 0o777).toBe(0o600);
    install();
    expect(fs.readFileSync(FILES.thunar, 'utf8')).toBe(installed);
    expect(doppel('integrate', 'remove').status).toBe(0);
    expect(fs.readFileSync(FILES.thunar, 'utf8')).toBe(user);
    fs.rmSync(path.dirname(FILES.thunar), { recursive: true });
  });

  it('Thunar: an uca.xml that cannot be parsed is left as it is, and install says so', () => {
    const broken = '<?xml version="1.0"?>\n<actions>\n<action><name>half</name>\n';
    fs.mkdirSync(path.dirname(FILES.thunar), { recursive: true });
    fs.writeFileSync(FILES.thunar, broken);
    const r = doppel('integrate', 'install', '--app', stub);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/uca\.xml could not be parsed \(<action> is not closed\): left as it is/);
    expect(fs.readFileSync(FILES.thunar, 'utf8')).toBe(broken);
    expect(fs.existsSync(FILES.app)).toBe(true);
    expect(doppel('integrate', 'remove').status).toBe(0);
    expect(fs.readFileSync(FILES.thunar, 'utf8')).toBe(broken);
    fs.rmSync(path.dirname(FILES.thunar), { recursive: true });
  });

  it('install twice gives the same files; remove leaves the tree as it was before install', () => {
    // The user's own files in the folders install writes to.
    fs.mkdirSync(path.join(data, 'applications'), { recursive: true });
    fs.writeFileSync(path.join(data, 'applications', 'other.desktop'), '[Desktop Entry]\nType=Application\n');
    fs.mkdirSync(path.join(config, 'caja', 'scripts'), { recursive: true });
    fs.writeFileSync(path.join(config, 'caja', 'scripts', 'mine'), '#!/bin/sh\n', { mode: 0o755 });
    const before = tree(home);
    install();
    const once = tree(home);
    install();
    expect(tree(home)).toEqual(once);
    const r = doppel('integrate', 'remove');
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(tree(home)).toEqual(before);
    expect(doppel('integrate', 'status').stdout).toMatch(/^not installed\n/);
    fs.rmSync(path.join(data, 'applications'), { recursive: true });
    fs.rmSync(path.join(config, 'caja'), { recursive: true });
  });

  it("a file that is not Doppel's is never replaced, and one changed since install is not removed", () => {
    fs.mkdirSync(path.dirname(FILES.nemo), { recursive: true });
    fs.writeFileSync(FILES.nemo, '[Nemo Action]\nName=mine\n');
    const r = doppel('integrate', 'install', '--app', stub);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${FILES.nemo} exists and is not the one Doppel wrote: left as it is`);
    expect(fs.readFileSync(FILES.nemo, 'utf8')).toBe('[Nemo Action]\nName=mine\n');
    fs.appendFileSync(FILES.nautilus, '# my change\n');
    const removed = doppel('integrate', 'remove');
    expect(removed.stderr).toContain(`${FILES.nautilus} was changed since Doppel wrote it: left as it is`);
    expect(fs.existsSync(FILES.nautilus)).toBe(true);
    expect(fs.readFileSync(FILES.nemo, 'utf8')).toBe('[Nemo Action]\nName=mine\n');
    expect(fs.existsSync(FILES.app)).toBe(false);
    fs.rmSync(FILES.nautilus);
    fs.rmSync(FILES.nemo);
  });

  it('without --app, where the desktop app is not installed, the entries run `doppel find-similar` of this CLI', () => {
    const r = doppel('integrate', 'status', '--json');
    const s = JSON.parse(r.stdout) as { installed: boolean };
    expect(s.installed).toBe(false);
    const text = doppel('integrate', 'status').stdout;
    if (!fs.existsSync('/opt/Doppel/doppel')) {
      expect(text).toContain(`install would make them run: ${process.execPath} ${CLI} find-similar <files...>`);
    }
  });
});
