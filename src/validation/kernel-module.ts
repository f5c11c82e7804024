import { Day1ValidationError } from './error';
import { checkBoundedText, checkYamlText, requireNonEmpty } from './rules';

/*
 * What a kernel module is made of: its image, its name, its firmware and its parameters. The
 * regular expressions follow the grammars of the systems that consume the value (OCI
 * distribution references, Linux module names), narrowed where the value later travels
 * through a systemd unit and a root shell script.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const IMAGE_NAME_RE = new RegExp(`^${NAME}$`);
const IMAGE_REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const KERNEL_MODULE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const FIRMWARE_PATH_RE = /^(?:\/[A-Za-z0-9._+@-]+)+$/;
const MODULE_PARAMETER_RE = /^([A-Za-z_][A-Za-z0-9_-]*)=([A-Za-z0-9._,:+@/-]+)$/;

/** Longest repository name the distribution spec allows. */
const MAX_IMAGE_NAME_LENGTH = 255;
/** The kernel's MODULE_NAME_LEN (64 bytes on 64-bit) minus the pointer-sized header and NUL. */
export const MAX_KERNEL_MODULE_NAME_LENGTH = 55;
/** Longest firmware directory accepted: far beyond any real one, short enough for a unit line. */
export const MAX_FIRMWARE_PATH_LENGTH = 1024;
/** NAME_MAX: no Linux filesystem holds a longer directory name, so such a path is never in an image. */
export const MAX_FIRMWARE_PATH_SEGMENT_LENGTH = 255;
/** Longest `name=value` module parameter accepted. */
export const MAX_MODULE_PARAMETER_LENGTH = 1024;

/**
 * A module name as modprobe and sysfs know it: modprobe treats "-" and "_" in module and
 * parameter names as the same character, and `/sys/module` shows "_". Two names are the same
 * module when this gives the same text.
 */
export function modprobeName(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * A Kubernetes name derived from a kernel module name: modprobe treats "-" and "_" alike, but
 * Kubernetes names allow only "-" and lowercase letters.
 */
export function dnsNameFromModuleName(kernelModuleName: string): string {
  return kernelModuleName.toLowerCase().replace(/_/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * A module image repository without tag or digest: the node appends its running kernel
 * release (`uname -r`) as the tag, which is what keeps cluster upgrades working.
 */
export function checkKernelModuleImage(field: string, value: unknown): string {
  const image = requireNonEmpty(field, value);
  if (/[A-Z]/.test(image)) {
    throw new Day1ValidationError(field, image, 'must be lowercase (an OCI repository name such as quay.io/org/driver)');
  }
  const parsed = IMAGE_REFERENCE_RE.exec(image);
  if (parsed && (parsed[2] !== undefined || parsed[3] !== undefined)) {
    throw new Day1ValidationError(field, image,
      `must not have a tag or digest: each node appends its kernel release (uname -r) as the tag, e.g. ${parsed[1]}:5.14.0-284.59.1.el9_2.x86_64`);
  }
  if (!IMAGE_NAME_RE.test(image)) {
    throw new Day1ValidationError(field, image,
      'must be an OCI image repository name ([registry[:port]/]path, path components of [a-z0-9] joined by ".", "_", "__" or "-")');
  }
  checkImageNameLength(field, image, image);
  checkYamlText(field, image);
  return image;
}

/** A complete image reference; a tag or digest is allowed (and recommended) here. */
export function checkImageReference(field: string, value: unknown): string {
  const image = requireNonEmpty(field, value);
  const parsed = IMAGE_REFERENCE_RE.exec(image);
  if (!parsed) {
    throw new Day1ValidationError(field, image,
      'must be an OCI image reference ([registry[:port]/]path[:tag][@algorithm:hex], lowercase path)');
  }
  checkImageNameLength(field, image, parsed[1]);
  checkYamlText(field, image);
  return image;
}

function checkImageNameLength(field: string, image: string, name: string): void {
  if (name.length > MAX_IMAGE_NAME_LENGTH) {
    throw new Day1ValidationError(field, image, `repository name must be at most ${MAX_IMAGE_NAME_LENGTH} characters (it has ${name.length})`);
  }
}

/**
 * KMM's `${KERNEL_FULL_VERSION}`: the image tag for a kernel release, as the boot scripts and
 * KMM's worker compute it on the node (`uname -r` with one trailing `+` removed and every
 * character outside `[A-Za-z0-9._-]` replaced by `_`, so `...aarch64+64k` → `...aarch64_64k`).
 */
export function kernelReleaseTag(kernelRelease: string): string {
  return kernelRelease.replace(/\+$/, '').replace(/[^A-Za-z0-9._-]/gu, '_');
}

/**
 * A kernel release (`uname -r`) whose tag by `kernelReleaseTag` is a valid OCI tag, returned
 * with that tag.
 */
export function checkKernelRelease(field: string, value: unknown): { readonly release: string; readonly tag: string } {
  const release = requireNonEmpty(field, value);
  const tag = kernelReleaseTag(release);
  if (!new RegExp(`^${TAG}$`).test(tag)) {
    throw new Day1ValidationError(field, release,
      `must be a kernel release (uname -r) whose image tag ${JSON.stringify(tag)} is an OCI tag: at most 128 characters, not starting with "." or "-"`);
  }
  return { release, tag };
}

/** A Linux module name as modprobe and /sys/module know it. */
export function checkKernelModuleName(field: string, value: unknown): string {
  const name = requireNonEmpty(field, value);
  if (!KERNEL_MODULE_NAME_RE.test(name)) {
    throw new Day1ValidationError(field, name,
      'must be a Linux kernel module name: letters, digits, "_" and "-", not starting with "-" (the .ko file name without .ko)');
  }
  if (name.length > MAX_KERNEL_MODULE_NAME_LENGTH) {
    throw new Day1ValidationError(field, name, `must be at most ${MAX_KERNEL_MODULE_NAME_LENGTH} characters (it has ${name.length})`);
  }
  checkYamlText(field, name);
  return name;
}

/** A directory inside the module image, later mirrored under the worker's /tmp. */
export function checkFirmwarePath(field: string, value: unknown): string {
  const p = checkBoundedText(field, value, MAX_FIRMWARE_PATH_LENGTH, FIRMWARE_PATH_RE,
    'must be an absolute, normalized directory path made of letters, digits and "._+@-" (no trailing "/", no "//", no whitespace or shell/systemd metacharacters)');
  const segments = p.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new Day1ValidationError(field, p, 'must be normalized: "." and ".." segments are not allowed');
  }
  const longest = Math.max(...segments.map((segment) => segment.length));
  if (longest > MAX_FIRMWARE_PATH_SEGMENT_LENGTH) {
    throw new Day1ValidationError(field, p,
      `must not have a directory name longer than ${MAX_FIRMWARE_PATH_SEGMENT_LENGTH} characters (NAME_MAX; it has one of ${longest})`);
  }
  return p;
}

/** One `name=value` modprobe parameter. */
export function checkModuleParameter(field: string, value: unknown): string {
  return checkBoundedText(field, value, MAX_MODULE_PARAMETER_LENGTH, MODULE_PARAMETER_RE,
    'must be name=value: a parameter name of letters, digits, "_" and "-" (not starting with a digit or "-"), and a non-empty value of letters, digits and "._,:+@/-"');
}

/** The identity of a module parameter for duplicates: its name as modprobe reads it. */
export function moduleParameterIdentity(parameter: string): string {
  return modprobeName(parameter.slice(0, parameter.indexOf('=')));
}
