#!/usr/bin/env node
import { loadConfig } from './config/load.js';
import { createLogger } from './log.js';
import { Gateway } from './gateway.js';
import { isGatewayError } from './errors.js';
import { parseArgs, stringOption } from './cli/args.js';
import { HELP } from './cli/help.js';
import { VERSION } from './version.js';

/** Exit codes: 0 clean stop, 1 runtime failure, 2 bad usage or bad configuration. */
async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, sub, name] = args.positional;
  if (args.options.has('version')) { process.stdout.write(`${VERSION}\n`); return 0; }
  if (args.options.has('help') || command === undefined || command === 'help') { process.stdout.write(HELP); return command === undefined && !args.options.has('help') ? 2 : 0; }

  const config = loadConfig({ file: stringOption(args, 'config') });
  // The maintenance commands are imported when run: a running gateway keeps every module it loaded
  // in its heap, and needs none of theirs.
  switch (command) {
    case 'check-config':
      process.stdout.write(`configuration OK${config.config_file ? ` (${config.config_file})` : ' (built-in defaults)'}\n`);
      return 0;
    case 'keys':
      await (await import('./cli/keys.js')).keysCommand(config, sub, name, stringOption(args, 'scopes'));
      return 0;
    case 'backup':
      await (await import('./cli/backup.js')).backupCommand(config, sub, args.options.has('gzip'));
      return 0;
    case 'restore':
      await (await import('./cli/backup.js')).restoreCommand(config, sub, args.options.has('force'));
      return 0;
    case 'repair-store':
      await (await import('./cli/repair-store.js')).repairStoreCommand(config);
      return 0;
    case 'start':
      return runGateway(config);
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

async function runGateway(config: ReturnType<typeof loadConfig>): Promise<number> {
  const log = createLogger(config.log.level);
  const gateway = new Gateway(config, log);
  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) { log.warn({ event: 'forced_exit', signal }, 'second signal: exiting now'); process.exit(1); }
      log.info({ event: 'stopping', signal }, `received ${signal}, stopping`);
      void gateway.stop().then(() => resolve(0), () => resolve(1));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // SIGHUP (systemctl reload): new certificate files, no restart, no device dropped. Handled from the
  // start, since Node's default for SIGHUP is to exit.
  process.on('SIGHUP', () => { void gateway.reloadCertificates(); });
  await gateway.start();
  return stopped;
}

main(process.argv.slice(2)).then(
  // Exit explicitly once stdout has drained: a stopped gateway must not linger on a stray handle.
  (code) => { process.stdout.write('', () => process.exit(code)); },
  (err: unknown) => {
    if (isGatewayError(err)) {
      process.stderr.write(`ways-edge: ${err.message}\n`);
      process.exitCode = err.code === 'config_invalid' || err.code === 'bad_request' ? 2 : 1;
    } else {
      process.stderr.write(`ways-edge: unexpected error: ${(err as Error).message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
