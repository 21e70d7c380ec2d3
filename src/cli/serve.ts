// `doppel serve`: the loopback bridge (src/server) on the library, for using the app in a browser on this machine.
// `doppel find-similar <file...>`: the same, started on "find similar" for those files, opened in the browser and
// stopped once its page is closed: what a file manager's "Find similar photos" runs where the desktop app is not
// installed (see src/core/integrate).
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { describeProblem, readNamedImages } from '../core/library/named-images.js';
import { findProjectRoot } from '../core/paths.js';
import type { DoppelService } from '../core/service.js';
import type { FindSimilarRequest } from '../shared/ipc.js';
import type { CliHelpers, CommonOptions } from './dupes.js';
import { intOption } from './options.js';
import { terminalSafe } from './output.js';

interface ServeOptions extends CommonOptions {
  port: number;
  renderer: string;
}

function withServeOptions(cmd: Command): Command {
  return cmd
    .option('--port <n>', 'port to listen on (default: a free one)', intOption, 0)
    .option('--renderer <dir>', 'the built renderer', path.join(findProjectRoot(), 'out', 'renderer'));
}

/** Resolves on Ctrl-C or SIGTERM, or when `stopEarly` resolves first. */
function untilStopped(stopEarly?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void stopEarly?.then(stop);
  });
}

/** Serves the bridge on `service` until `until` resolves: prints the URL first, watches while the setting says. */
async function serveUntil(
  service: DoppelService,
  o: ServeOptions,
  findSimilar: FindSimilarRequest | undefined,
  until: (bridge: { url: string; openStreams(): number }) => Promise<void>,
): Promise<void> {
  const { startBridge } = await import('../server/index.js'); // the HTTP bridge (and zod) only for these commands
  const bridge = await startBridge({
    service,
    media: service.mediaLibrary(),
    rendererDir: o.renderer,
    port: o.port,
    findSimilar,
  });
  process.stdout.write(`${bridge.url}\n`);
  // Watches while the `watch` setting is on, following that setting and the folders as they change.
  await service.startWatching();
  await until(bridge);
  await service.stopWatching();
  await service.cancelIndexing();
  await bridge.close();
}

/** The system's way to open a URL in the default browser. */
function openerFor(platform: NodeJS.Platform, url: string): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
  return ['xdg-open', [url]];
}

function openInBrowser(url: string): void {
  const [command, args] = openerFor(process.platform, url);
  const tell = (why: string): void =>
    void process.stderr.write(`doppel: could not open a browser (${why}); open the URL above in one\n`);
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.once('error', (err) => tell(`${command}: ${err.message}`));
    child.unref();
  } catch (err) {
    tell(String(err));
  }
}

/**
 * Resolves once no page has held the bridge's events stream for `idleMs` (after one did), or when none came within
 * `firstMs` of the start.
 */
function whenPagesGone(bridge: { openStreams(): number }, idleMs: number, firstMs: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = false;
    let since = Date.now();
    const timer = setInterval(() => {
      if (bridge.openStreams() > 0) {
        seen = true;
        since = Date.now();
      } else if (Date.now() - since >= (seen ? idleMs : firstMs)) {
        clearInterval(timer);
        process.stderr.write(
          seen ? 'doppel: the page was closed; stopping\n' : 'doppel: no page opened the URL; stopping\n',
        );
        resolve();
      }
    }, 250);
    timer.unref(); // stopped by Ctrl-C first, it must not keep the process alive
  });
}

export function registerServe(program: Command, { withCommon, withService }: CliHelpers): void {
  withCommon(
    withServeOptions(
      program
        .command('serve')
        .description(
          'serve the app to a browser on this machine (127.0.0.1 only); prints the URL with its token first',
        ),
    ),
  ).action(async (o: ServeOptions) => {
    await withService(o, async (service) => {
      await serveUntil(service, o, undefined, async () => {
        process.stderr.write('doppel: serving on 127.0.0.1 only; Ctrl-C stops\n');
        await untilStopped();
      });
    });
  });

  withCommon(
    withServeOptions(
      program
        .command('find-similar')
        .description(
          'open the app in the browser on the photos similar to these images, in the library or not (through doppel ' +
            'serve; prints the URL first); stops once its page is closed',
        )
        .argument('[files...]', 'image files')
        .option('--no-open', 'print the URL only; do not open a browser')
        .option('--idle <seconds>', 'stop once no page has been open for this long', intOption, 30),
    ),
  ).action(async (files: string[], o: ServeOptions & { open: boolean; idle: number }) => {
    const request = await readNamedImages(files.map((f) => path.resolve(f)));
    // The page shows these too: a file manager that runs this command shows no terminal.
    for (const problem of request.problems) process.stderr.write(`doppel: ${terminalSafe(describeProblem(problem))}\n`);
    await withService(o, async (service) => {
      await serveUntil(service, o, request, async (bridge) => {
        if (o.open) openInBrowser(bridge.url);
        process.stderr.write('doppel: serving on 127.0.0.1 only, until the page is closed; Ctrl-C stops\n');
        await untilStopped(whenPagesGone(bridge, o.idle * 1000, Math.max(o.idle * 1000, 120_000)));
      });
    });
  });
}
