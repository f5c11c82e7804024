import { FlagSpec, FLAGS, HELP_NAMES, VERSION_NAME } from './flags';
import { ProduceMachineConfigOptions } from '../validation';

/*
 * Command-line parsing with the conventions of Go's `flag` package (what KMM's utility uses):
 * one or two leading dashes, the value either after `=` or as the next argument, and `--`
 * ending the flags. Only the shape of the command line is checked here; every value goes to
 * the validation layer unchanged, so the CLI and the library accept exactly the same inputs.
 */

/** A malformed command line (exit status 2); the message is one line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Command =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'generate'; readonly options: ProduceMachineConfigOptions };

export interface FlagToken {
  /** The name as typed, without dashes. */
  readonly name: string;
  /** Present when given as `-flag=value`. */
  readonly value?: string;
}

const BY_NAME = new Map<string, FlagSpec>(FLAGS.map((flag) => [flag.name, flag]));

/** JSON quoting keeps every message on one line whatever the user typed. */
export function quote(text: string): string {
  return JSON.stringify(text);
}

/** Splits `-name`, `--name`, `-name=value`, `--name=value`; anything else is not a flag. */
export function flagToken(arg: string): FlagToken | undefined {
  const match = /^--?([^-=][^=]*)(?:=([\s\S]*))?$/.exec(arg);
  if (!match) {
    return undefined;
  }
  return match[2] === undefined ? { name: match[1] } : { name: match[1], value: match[2] };
}

function isKnownFlag(arg: string): boolean {
  const token = flagToken(arg);
  return token !== undefined && (BY_NAME.has(token.name) || HELP_NAMES.includes(token.name) || token.name === VERSION_NAME);
}

/**
 * `--module-parameters` pieces: a piece without `=` belongs to the value of the parameter
 * before it, because values such as `rss=4,4` contain commas themselves. A leading piece
 * without `=` stays on its own so validation reports it.
 */
export function splitModuleParameters(text: string): string[] {
  if (text === '') {
    return [];
  }
  const parameters: string[] = [];
  for (const piece of text.split(',')) {
    if (!piece.includes('=') && parameters.length > 0) {
      parameters[parameters.length - 1] += `,${piece}`;
    } else {
      parameters.push(piece);
    }
  }
  return parameters;
}

/** Empty means "none", as in KMM's utility; empty entries (`a,,b`) go on to validation, which rejects them. */
export function splitList(text: string): string[] {
  return text === '' ? [] : text.split(',');
}

function optionValue(flag: FlagSpec, text: string): string | string[] {
  switch (flag.kind) {
    case 'list':
      return splitList(text);
    case 'parameters':
      return splitModuleParameters(text);
    default:
      return text;
  }
}

/**
 * Reads the arguments after the program name. Help and version act as soon as they are
 * reached, like Go's `-help`; problems before them are reported first.
 *
 * @throws UsageError for an unknown, repeated, value-less or missing flag, or a stray argument
 */
export function parseArguments(argv: readonly string[]): Command {
  const given = new Map<FlagSpec, string>();
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i++];
    if (arg === '--') {
      if (i < argv.length) {
        throw new UsageError(`unexpected argument ${quote(argv[i])} after "--"`);
      }
      break;
    }
    const token = flagToken(arg);
    if (token === undefined) {
      throw new UsageError(arg.length > 1 && arg.startsWith('-') ? `unknown flag ${quote(arg)}` : `unexpected argument ${quote(arg)}`);
    }
    if (HELP_NAMES.includes(token.name) || token.name === VERSION_NAME) {
      if (token.value !== undefined) {
        throw new UsageError(`flag ${token.name.length === 1 ? '-' : '--'}${token.name} does not take a value`);
      }
      return { action: token.name === VERSION_NAME ? 'version' : 'help' };
    }
    const flag = BY_NAME.get(token.name);
    if (flag === undefined) {
      throw new UsageError(`unknown flag ${quote(arg.split('=')[0])}`);
    }
    if (given.has(flag)) {
      throw new UsageError(`flag --${flag.name} is given more than once`);
    }
    let value = token.value;
    if (value === undefined) {
      // A following flag means the value was forgotten, not that it starts with a dash.
      if (i >= argv.length || argv[i] === '--' || isKnownFlag(argv[i])) {
        throw new UsageError(`flag --${flag.name} needs a value`);
      }
      value = argv[i++];
    }
    given.set(flag, value);
  }

  const missing = FLAGS.filter((flag) => flag.required && !given.has(flag));
  if (missing.length > 0) {
    throw new UsageError(`missing required flag${missing.length > 1 ? 's' : ''} ${missing.map((flag) => `--${flag.name}`).join(', ')}`);
  }
  const options: Record<string, string | string[]> = {};
  for (const [flag, text] of given) {
    // An empty optional flag means "not given" (scripts pass empty variables, as they may to
    // KMM's utility); the library itself rejects an empty string, so it is left out here.
    if (text === '' && !flag.required && flag.kind === 'string') continue;
    options[flag.field] = optionValue(flag, text);
  }
  return { action: 'generate', options: options as unknown as ProduceMachineConfigOptions };
}
