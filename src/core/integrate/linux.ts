// The files `doppel integrate install` writes on Linux, under the XDG user folders: the app's desktop entry (with a
// "Find similar photos" action and the image types Doppel indexes), a Nautilus script, a Nemo action, a Caja
// script, a Dolphin service menu, and an action in Thunar's uca.xml. Pure: paths and contents only.
import os from 'node:os';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from '../library/scan.js';
import { desktopExec, displayCommand, keyFileString, shellCommandWithFiles, shellQuote, xmlEscape } from './quote.js';
import { actionXml, type ThunarAction } from './thunar.js';

/** The MIME type of each extension Doppel indexes (src/core/library/scan.ts, IMAGE_EXTENSIONS). */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.gif': 'image/gif',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.jxl': 'image/jxl',
  '.bmp': 'image/bmp',
  '.dib': 'image/bmp',
  '.pbm': 'image/x-portable-bitmap',
  '.pgm': 'image/x-portable-graymap',
  '.ppm': 'image/x-portable-pixmap',
  '.pnm': 'image/x-portable-anymap',
  '.pam': 'image/x-portable-arbitrarymap',
  // Camera RAW, as shared-mime-info names them.
  '.dng': 'image/x-adobe-dng',
  '.cr2': 'image/x-canon-cr2',
  '.cr3': 'image/x-canon-cr3',
  '.crw': 'image/x-canon-crw',
  '.nef': 'image/x-nikon-nef',
  '.nrw': 'image/x-nikon-nrw',
  '.arw': 'image/x-sony-arw',
  '.srf': 'image/x-sony-srf',
  '.sr2': 'image/x-sony-sr2',
  '.orf': 'image/x-olympus-orf',
  '.rw2': 'image/x-panasonic-rw2',
  '.raf': 'image/x-fuji-raf',
  '.pef': 'image/x-pentax-pef',
  '.srw': 'image/x-samsung-srw',
  '.x3f': 'image/x-sigma-x3f',
};

/** The MIME types of the formats Doppel indexes, each once. Throws when an extension has none here. */
export function imageMimeTypes(): string[] {
  const types = [...IMAGE_EXTENSIONS].map((ext) => {
    const type = MIME_TYPES[ext];
    if (!type) throw new Error(`integrate: no MIME type for ${ext} (add it to MIME_TYPES)`);
    return type;
  });
  return [...new Set(types)];
}

export const ACTION_NAME = 'Find similar photos';
export const ACTION_COMMENT = 'Find photos similar to the selected ones with Doppel';
export const THUNAR_UNIQUE_ID = 'doppel-find-similar';
const ICON = 'edit-find';

export interface XdgDirs {
  /** $XDG_DATA_HOME, default ~/.local/share. */
  data: string;
  /** $XDG_CONFIG_HOME, default ~/.config. */
  config: string;
}

/** The XDG base directories: a variable that is unset, empty or not absolute is ignored, as the spec says. */
export function xdgDirs(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): XdgDirs {
  const dir = (value: string | undefined, fallback: string): string =>
    value && path.isAbsolute(value) ? value : path.join(home, fallback);
  return { data: dir(env.XDG_DATA_HOME, '.local/share'), config: dir(env.XDG_CONFIG_HOME, '.config') };
}

export interface GeneratedFile {
  /** Which file manager (or the desktop) reads it. */
  for: string;
  path: string;
  content: string;
  /** 0o755 for the scripts and the Dolphin service menu (KDE 6 runs only executable ones), else 0o644. */
  mode: number;
}

export interface LinuxIntegration {
  files: GeneratedFile[];
  thunar: { path: string; action: ThunarAction; xml: string };
}

function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.4',
    'Name=Doppel',
    'GenericName=Photo duplicate finder',
    'Comment=Find similar and duplicate photos',
    `Exec=${desktopExec(command)}`,
    'Icon=image-x-generic',
    'Terminal=false',
    'StartupNotify=false',
    'Categories=Graphics;Photography;',
    `MimeType=${imageMimeTypes().join(';')};`,
    'Actions=find-similar;',
    'X-Doppel-Integration=true',
    '',
    '[Desktop Action find-similar]',
    `Name=${ACTION_NAME}`,
    `Icon=${ICON}`,
    `Exec=${desktopExec(command)}`,
    '',
  ].join('\n');
}

/** A Nautilus or Caja script: the selection from `variable` (one path a line), else from its arguments. */
function script(manager: string, variable: string, command: readonly string[]): string {
  return [
    '#!/bin/sh',
    `# Doppel: "${ACTION_NAME}" for the files selected in ${manager}. Written by \`doppel integrate install\`;`,
    '# `doppel integrate remove` deletes it.',
    `# Runs: ${displayCommand(command)} <files...>`,
    `# ${manager} passes the selection in ${variable} (one path a line, local files) and as the arguments`,
    '# (names relative to the current folder).',
    `if [ -n "\${${variable}:-}" ]; then`,
    '  set --',
    '  while IFS= read -r file; do',
    '    if [ -n "$file" ]; then set -- "$@" "$file"; fi',
    '  done <<DOPPEL_SELECTION',
    `$${variable}`,
    'DOPPEL_SELECTION',
    'fi',
    'for file in "$@"; do',
    '  shift',
    '  case $file in',
    '    /*) set -- "$@" "$file" ;;',
    '    *) set -- "$@" "$PWD/$file" ;;',
    '  esac',
    'done',
    `exec ${command.map(shellQuote).join(' ')} "$@"`,
    '',
  ].join('\n');
}

function nemoAction(command: readonly string[]): string {
  return [
    '[Nemo Action]',
    'Active=true',
    `Name=${ACTION_NAME}`,
    `Comment=${ACTION_COMMENT}`,
    // Nemo puts each path in double quotes (escaping " and \) and splits the line like a shell (GLib).
    `Exec=${keyFileString(shellCommandWithFiles(command))}`,
    'Quote=double',
    `Icon-Name=${ICON}`,
    'Selection=notnone',
    `Mimetypes=${imageMimeTypes().join(';')};`,
    '',
  ].join('\n');
}

function dolphinServiceMenu(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Service',
    'Name=Doppel',
    // KDE 5 reads it with this service type; KDE 6 by MimeType and Actions.
    'X-KDE-ServiceTypes=KonqPopupMenu/Plugin',
    `MimeType=${imageMimeTypes().join(';')};`,
    'Actions=findSimilar;',
    'X-KDE-Priority=TopLevel',
    '',
    '[Desktop Action findSimilar]',
    `Name=${ACTION_NAME}`,
    `Icon=${ICON}`,
    `Exec=${desktopExec(command)}`,
    '',
  ].join('\n');
}

/** Thunar's patterns are matched against the file's name as it is: each extension in lower and upper case. */
function thunarPatterns(): string[] {
  return [...IMAGE_EXTENSIONS].flatMap((ext) => [`*${ext}`, `*${ext.toUpperCase()}`]);
}

export function manifestPath(dirs: XdgDirs): string {
  return path.join(dirs.data, 'doppel', 'integration.json');
}

/** Every file install writes (but the manifest), and Thunar's action, for `command` + the selected files. */
export function linuxIntegration(dirs: XdgDirs, command: readonly string[]): LinuxIntegration {
  const action: ThunarAction = {
    uniqueId: THUNAR_UNIQUE_ID,
    name: ACTION_NAME,
    description: ACTION_COMMENT,
    icon: ICON,
    // Thunar replaces %F with the paths, each shell-quoted, and runs the line with /bin/sh -c.
    command: shellCommandWithFiles(command),
    patterns: thunarPatterns(),
  };
  const nautilus = script('Nautilus', 'NAUTILUS_SCRIPT_SELECTED_FILE_PATHS', command);
  const caja = script('Caja', 'CAJA_SCRIPT_SELECTED_FILE_PATHS', command);
  return {
    files: [
      {
        for: 'desktop (the app entry)',
        path: path.join(dirs.data, 'applications', 'doppel.desktop'),
        content: desktopEntry(command),
        mode: 0o644,
      },
      {
        for: 'Nautilus',
        path: path.join(dirs.data, 'nautilus', 'scripts', ACTION_NAME),
        content: nautilus,
        mode: 0o755,
      },
      {
        for: 'Nemo',
        path: path.join(dirs.data, 'nemo', 'actions', 'doppel-find-similar.nemo_action'),
        content: nemoAction(command),
        mode: 0o644,
      },
      { for: 'Caja', path: path.join(dirs.config, 'caja', 'scripts', ACTION_NAME), content: caja, mode: 0o755 },
      {
        for: 'Dolphin',
        path: path.join(dirs.data, 'kio', 'servicemenus', 'doppel-find-similar.desktop'),
        content: dolphinServiceMenu(command),
        mode: 0o755,
      },
    ],
    thunar: { path: path.join(dirs.config, 'Thunar', 'uca.xml'), action, xml: actionXml(action, xmlEscape) },
  };
}
