// Property lists in Apple's XML format, for the macOS Quick Action (macos.ts): strings, integers, booleans, arrays
// and dictionaries, keys in the order given.
import { xmlEscape } from './quote.js';

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function element(value: PlistValue, indent: string): string[] {
  if (typeof value === 'string') return [`${indent}<string>${xmlEscape(value)}</string>`];
  if (typeof value === 'boolean') return [`${indent}<${value ? 'true' : 'false'}/>`];
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`plist: ${value} is not an integer`);
    return [`${indent}<integer>${value}</integer>`];
  }
  const inner = `${indent}\t`;
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}<array/>`];
    return [`${indent}<array>`, ...value.flatMap((v) => element(v, inner)), `${indent}</array>`];
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return [`${indent}<dict/>`];
  return [
    `${indent}<dict>`,
    ...entries.flatMap(([k, v]) => [`${inner}<key>${xmlEscape(k)}</key>`, ...element(v, inner)]),
    `${indent}</dict>`,
  ];
}

/** A whole plist document holding `root`. */
export function plistXml(root: PlistValue): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...element(root, ''),
    '</plist>',
    '',
  ].join('\n');
}
