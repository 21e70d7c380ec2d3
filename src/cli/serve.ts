// `doppel serve`: the loopback bridge (src/server) on the library, for using the app in a browser on this machine.
import path from 'node:path';
import type { Command } from 'commander';
import { findProjectRoot } from '../core/paths.js';
import type { CliHelpers, CommonOptions } from './dupes.js';
import { intOption } from './options.js';

export function registerServe(program: Command, { withCommon, withService }: CliHelpers): void {
  withCommon(
    program
      .command('serve')
      .description('serve the app to a browser on this machine (127.0.0.1 only); prints the URL with its token first')
      .option('--port <n>', 'port to listen on (default: a free one)', intOption, 0)
      .option('--renderer <dir>', 'the built renderer', path.join(findProjectRoot(), 'out', 'renderer')),
  ).action(async (o: CommonOptions & { port: number; renderer: string }) => {
    await withService(o, async (service) => {
      const { startBridge } = await import('../server/index.js'); // the HTTP bridge (and zod) only for this command
      const bridge = await startBridge({
        service,
        media: service.mediaLibrary(),
        rendererDir: o.renderer,
        port: o.port,
      });
      process.stdout.write(`${bridge.url}\n`);
      // Watches while the `watch` setting is on, following that setting and the folders as they change.
      await service.startWatching();
      process.stderr.write('doppel: serving on 127.0.0.1 only; Ctrl-C stops\n');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await service.stopWatching();
      await service.cancelIndexing();
      await bridge.close();
    });
  });
}
