import { existsSync, readFileSync } from 'fs';
import { rootCertificates } from 'tls';
import { checkImagesUsage, CheckImagesOptions, parseCheckImagesArguments, SUBCOMMAND } from './arguments';
import { readKernelReleases, readModules } from './inputs';
import { CheckResult, exitStatus, EXIT_UNKNOWN, formatJson, formatTable, ImageCheck, plannedChecks, problemLines } from './report';
import { ManifestLookup, RegistryClient } from '../../registry/client';
import { AuthFileError, Credentials, parseAuthFile } from '../../registry/credentials';
import { UsageError } from '../arguments';
import { PROGRAM } from '../flags';

/*
 * `day1-utility check-images`: reads the inputs, asks the registries, prints the report. Loaded
 * only when the subcommand runs, so the top-level command never pays for the registry client.
 */

/** Where the subcommand writes (the same interface as the top-level command's). */
export interface CheckImagesOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const EXIT_USAGE = 2;
const NAME = `${PROGRAM} ${SUBCOMMAND}`;
/** Lookups in flight at once: enough to hide latency, few enough not to look like a flood to a registry. */
const CONCURRENCY = 8;

/** The distribution's CA bundle, as OpenSSL-based tools (podman, skopeo, curl) find it. */
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];

function readInput(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${flag} ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Node's CAs, the system's and the --ca-file ones; undefined (Node's defaults) when there is
 * nothing to add. Node 20 does not read the system store on its own.
 */
function trustedCertificates(caFiles: readonly string[]): string[] | undefined {
  const extra = caFiles.map((file) => {
    const text = readInput('--ca-file', file);
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-file ${JSON.stringify(file)} holds no PEM certificate`);
    return text;
  });
  const systemFile = [process.env.SSL_CERT_FILE, ...SYSTEM_CA_BUNDLES].find((file) => file !== undefined && file !== '' && existsSync(file));
  const system = systemFile === undefined ? [] : [readFileSync(systemFile, 'utf8')];
  return extra.length === 0 && system.length === 0 ? undefined : [...rootCertificates, ...system, ...extra];
}

function credentialsOf(authfile: string | undefined): Credentials {
  if (authfile === undefined) return new Map();
  try {
    return parseAuthFile(authfile, readInput('--authfile', authfile));
  } catch (error) {
    if (error instanceof AuthFileError) throw new UsageError(`--authfile ${error.message}`);
    throw error;
  }
}

/** Every check answered; each distinct image is asked once, at most CONCURRENCY at a time. */
async function lookUp(client: RegistryClient, checks: readonly ImageCheck[]): Promise<CheckResult[]> {
  const images = [...new Set(checks.map((check) => check.image))];
  const answers = new Map<string, ManifestLookup>();
  let next = 0;
  const worker = async () => {
    while (next < images.length) {
      const image = images[next++];
      answers.set(image, await client.lookup(image));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, images.length) }, worker));
  return checks.map((check) => ({ ...check, lookup: answers.get(check.image)! }));
}

async function checkAll(options: CheckImagesOptions, output: CheckImagesOutput): Promise<number> {
  const releases = readKernelReleases(options.kernelReleases, options.nodesFiles);
  const modules = readModules(options.paths);
  const client = new RegistryClient({
    timeoutMs: options.timeoutSeconds * 1000,
    credentials: credentialsOf(options.authfile),
    ca: trustedCertificates(options.caFiles),
    insecureRegistries: options.insecureRegistries,
  });
  let results: CheckResult[];
  try {
    results = await lookUp(client, plannedChecks(modules, releases));
  } finally {
    client.close();
  }
  const status = exitStatus(results);
  try {
    output.stdout(options.output === 'json' ? formatJson(results, releases) : formatTable(results));
    output.stderr(problemLines(NAME, results));
  } catch {
    // The reader went away (`| head`): the exit status still says what was found.
  }
  return status;
}

/**
 * Runs `day1-utility check-images` with the arguments after the subcommand and returns the
 * exit status. Nothing reaches standard output unless the whole report is ready.
 */
export async function checkImages(argv: readonly string[], output: CheckImagesOutput): Promise<number> {
  try {
    const command = parseCheckImagesArguments(argv);
    if (command.action === 'help') {
      output.stdout(checkImagesUsage());
      return 0;
    }
    return await checkAll(command.options, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.stderr(`${NAME}: ${error.message}\nRun '${NAME} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    output.stderr(`${NAME}: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_UNKNOWN;
  }
}
