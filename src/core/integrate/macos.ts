// The macOS Finder entry: a Quick Action (an Automator service) "Find similar photos" on the image types Doppel
// indexes, which runs the installed app with the selected files. Shipped in Doppel.app/Contents/Resources
// (electron-builder.yml's mac.extraResources, generated into out/installer by scripts/installer-files.ts); opening it
// there asks to install it in ~/Library/Services. Pure: paths and contents only.
import { IMAGE_EXTENSIONS } from '../library/scan.js';
import { ACTION_NAME } from './linux.js';
import { plistXml, type PlistValue } from './plist.js';

/**
 * The Uniform Type Identifier of each extension Doppel indexes (src/core/library/scan.ts, IMAGE_EXTENSIONS): the
 * Finder offers the Quick Action for files of these types and of types that conform to them.
 */
export const UTI_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'public.jpeg',
  '.jpeg': 'public.jpeg',
  '.jpe': 'public.jpeg',
  '.png': 'public.png',
  '.webp': 'org.webmproject.webp',
  '.avif': 'public.avif',
  '.tif': 'public.tiff',
  '.tiff': 'public.tiff',
  '.gif': 'com.compuserve.gif',
  '.heic': 'public.heic',
  '.heif': 'public.heif',
  '.jxl': 'public.jpeg-xl',
  '.bmp': 'com.microsoft.bmp',
  '.dib': 'com.microsoft.bmp',
  ...Object.fromEntries(['.pbm', '.pgm', '.ppm', '.pnm', '.pam'].map((ext) => [ext, 'public.pbm'])),
  // Each camera's RAW type (com.canon.cr2-raw-image, com.adobe.raw-image, ...) conforms to this one.
  ...Object.fromEntries(
    '.dng .cr2 .cr3 .crw .nef .nrw .arw .srf .sr2 .orf .rw2 .raf .pef .srw .x3f'
      .split(' ')
      .map((ext) => [ext, 'public.camera-raw-image']),
  ),
};

/** The UTIs of the formats Doppel indexes, each once. Throws when an extension has none here. */
export function imageUtis(extensions: Iterable<string> = IMAGE_EXTENSIONS): string[] {
  const types = [...extensions].map((ext) => {
    const type = UTI_TYPES[ext];
    if (!type) throw new Error(`integrate: no UTI for ${ext} (add it to UTI_TYPES in macos.ts)`);
    return type;
  });
  return [...new Set(types)];
}

/** electron-builder.yml's appId: the app's bundle identifier, by which `open` finds it wherever it is installed. */
export const MAC_BUNDLE_ID = 'app.doppel.desktop';

/**
 * The shell script the Quick Action runs, the selected files as its arguments ("$@", each one word whatever it
 * holds). `open -n` starts the app even when it runs: the new instance hands the files to the running one through
 * the single-instance lock and quits, as a second launch from a file manager does on Linux.
 */
export const MAC_SCRIPT = `exec /usr/bin/open -n -b ${MAC_BUNDLE_ID} --args --find-similar "$@"`;

export const WORKFLOW_NAME = `${ACTION_NAME}.workflow`;

export interface WorkflowFile {
  /** Relative to the folder that holds the .workflow bundle. */
  path: string;
  content: string;
}

/** Contents/Info.plist: the service's menu item, the Finder as its context, the file types it takes. */
export function workflowInfoPlist(extensions?: Iterable<string>): string {
  return plistXml({
    CFBundleIdentifier: `${MAC_BUNDLE_ID}.find-similar`,
    CFBundleName: ACTION_NAME,
    CFBundleShortVersionString: '1.0',
    NSServices: [
      {
        NSMenuItem: { default: ACTION_NAME },
        NSMessage: 'runWorkflowAsService',
        NSRequiredContext: { NSApplicationIdentifier: 'com.apple.finder' },
        NSSendFileTypes: imageUtis(extensions),
      },
    ],
  });
}

// Fixed identifiers, so that generating again gives the same bytes.
const ACTION_UUID = '5C2B6A4E-2D0B-4E55-9A57-0D0E8F3B1A01';
const INPUT_UUID = '5C2B6A4E-2D0B-4E55-9A57-0D0E8F3B1A02';
const OUTPUT_UUID = '5C2B6A4E-2D0B-4E55-9A57-0D0E8F3B1A03';

/** Contents/document.wflow: one "Run Shell Script" action, the files passed as arguments (inputMethod 1). */
export function workflowDocument(): string {
  const action: PlistValue = {
    AMAccepts: { Container: 'List', Optional: true, Types: ['com.apple.cocoa.string'] },
    AMActionVersion: '2.0.3',
    AMApplication: ['Automator'],
    AMParameterProperties: {
      COMMAND_STRING: {},
      CheckedForUserDefaultShell: {},
      inputMethod: {},
      shell: {},
      source: {},
    },
    AMProvides: { Container: 'List', Types: ['com.apple.cocoa.string'] },
    ActionBundlePath: '/System/Library/Automator/Run Shell Script.action',
    ActionName: 'Run Shell Script',
    ActionParameters: {
      COMMAND_STRING: MAC_SCRIPT,
      CheckedForUserDefaultShell: true,
      inputMethod: 1,
      shell: '/bin/sh',
      source: '',
    },
    BundleIdentifier: 'com.apple.RunShellScript',
    CFBundleVersion: '2.0.3',
    CanShowSelectedItemsWhenRun: false,
    CanShowWhenRun: true,
    Category: ['AMCategoryUtilities'],
    'Class Name': 'RunShellScriptAction',
    InputUUID: INPUT_UUID,
    Keywords: ['Shell', 'Script', 'Command', 'Run', 'Unix'],
    OutputUUID: OUTPUT_UUID,
    UUID: ACTION_UUID,
    UnlocalizedApplications: ['Automator'],
    arguments: {
      '0': { 'default value': '', name: 'input', type: 'actionInput', uuid: INPUT_UUID },
      '1': { 'default value': '', name: 'output', type: 'actionOutput', uuid: OUTPUT_UUID },
    },
    isViewVisible: true,
  };
  return plistXml({
    AMApplicationBuild: '521',
    AMApplicationVersion: '2.10',
    AMDocumentVersion: '2',
    actions: [{ action, isViewVisible: true }],
    connectors: {},
    workflowMetaData: {
      applicationBundleID: 'com.apple.finder',
      applicationPath: '/System/Library/CoreServices/Finder.app',
      inputTypeIdentifier: 'com.apple.Automator.fileSystemObject.image',
      outputTypeIdentifier: 'com.apple.Automator.nothing',
      presentationMode: 15,
      processesInput: 0,
      serviceApplicationBundleID: 'com.apple.finder',
      serviceApplicationPath: '/System/Library/CoreServices/Finder.app',
      serviceInputTypeIdentifier: 'com.apple.Automator.fileSystemObject.image',
      serviceOutputTypeIdentifier: 'com.apple.Automator.nothing',
      serviceProcessesInput: 0,
      systemImageName: 'NSActionTemplate',
      useAutomaticInputType: 0,
      workflowTypeIdentifier: 'com.apple.Automator.servicesMenu',
    },
  });
}

/** The files of the .workflow bundle. */
export function macWorkflowFiles(extensions?: Iterable<string>): WorkflowFile[] {
  return [
    { path: `${WORKFLOW_NAME}/Contents/Info.plist`, content: workflowInfoPlist(extensions) },
    { path: `${WORKFLOW_NAME}/Contents/document.wflow`, content: workflowDocument() },
  ];
}
