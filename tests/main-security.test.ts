// The window hardening that runs without Electron: the CSP and the IPC sender check.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, createSenderCheck } from '../src/main/security.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const indexHtml = path.join(root, 'out/renderer/index.html');
const indexUrl = pathToFileURL(indexHtml).href;

describe('content security policy', () => {
  it('allows only the app itself to run scripts and load content', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/);
  });

  it('is repeated word for word in the renderer index.html meta tag', () => {
    const html = readFileSync(path.join(root, 'src/renderer/index.html'), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
  });
});

describe('createSenderCheck', () => {
  it('trusts exactly the built index.html when there is no dev server', () => {
    const trusted = createSenderCheck({ indexHtml });
    expect(trusted({ url: indexUrl })).toBe(true);
    expect(trusted({ url: `${indexUrl}#/duplicates` })).toBe(true);
    expect(trusted({ url: pathToFileURL(path.join(root, 'out/renderer/other.html')).href })).toBe(false);
    expect(trusted({ url: 'file:///tmp/evil.html' })).toBe(false);
    expect(trusted({ url: 'http://localhost:5173/' })).toBe(false);
    expect(trusted({ url: 'not a url' })).toBe(false);
    expect(trusted(null)).toBe(false);
  });

  it('trusts only the dev server origin in development', () => {
    const trusted = createSenderCheck({ devServerUrl: 'http://localhost:5173', indexHtml });
    expect(trusted({ url: 'http://localhost:5173/' })).toBe(true);
    expect(trusted({ url: 'http://localhost:5173/src/App.svelte' })).toBe(true);
    expect(trusted({ url: 'http://localhost:5174/' })).toBe(false);
    expect(trusted({ url: 'https://example.com/' })).toBe(false);
    expect(trusted({ url: indexUrl })).toBe(false);
  });
});
