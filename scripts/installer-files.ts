// `npm run dist` (before electron-builder): writes the installers' file-manager entries, generated from
// src/core/integrate (the image types from IMAGE_EXTENSIONS), into out/installer, where electron-builder.yml takes
// them: the NSIS include of the Explorer verb and the macOS Quick Action.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTALLER_DIR, installerFiles } from '../src/core/integrate/installers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
fs.rmSync(path.join(root, INSTALLER_DIR), { recursive: true, force: true });
for (const file of installerFiles()) {
  const dest = path.join(root, file.path);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, file.content);
  console.log(`installer-files: ${file.path}`);
}
