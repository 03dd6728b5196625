// Kernel versions as the model sees them: "major.minor" only. Stable sublevels
// (6.12.117) do not change the allocation model, except for backports, which the
// fact sheet lists per tree (kernel-model.md §5.1) and which are not modelled here.

export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

/** The oldest version the model describes: memalloc_nofs_save() appeared in 4.12. */
export const OLDEST_VERSION: KernelVersion = { major: 4, minor: 12 };

/**
 * The newest version whose whole model is verified against a real tree
 * (Debian's linux-source-6.12, kernel-model.md). It is the default when no
 * tree tells otherwise.
 */
export const NEWEST_VERIFIED_VERSION: KernelVersion = { major: 6, minor: 12 };

/**
 * The newest version the model accepts. Versions after 6.12 are modelled as
 * 6.12 plus the later changes kernel-model.md §5 records (vmalloc gfp
 * support, kmalloc_obj); where a release is not confirmed the capability is
 * "unknown" and findings that depend on it stay silent.
 */
export const NEWEST_VERSION: KernelVersion = { major: 7, minor: 0 };

/** Last minor of each major, so that 4.20 is followed by 5.0 and 5.19 by 6.0. */
const LAST_MINOR: Readonly<Record<number, number>> = { 4: 20, 5: 19, 6: 19, 7: 0 };

export class VersionError extends Error {}

export function parseVersion(text: string): KernelVersion {
  const match = /^\s*v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+~].*)?\s*$/.exec(text);
  if (!match) {
    throw new VersionError(`'${text}' is not a kernel version (expected X.Y, for example 6.12)`);
  }
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export function formatVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** `v >= since && (until === undefined || v < until)`, versions given as "X.Y". */
export function inRange(v: KernelVersion, since?: string, until?: string): boolean {
  if (since !== undefined && compareVersions(v, parseVersion(since)) < 0) return false;
  if (until !== undefined && compareVersions(v, parseVersion(until)) >= 0) return false;
  return true;
}

export function atLeast(v: KernelVersion, since: string): boolean {
  return compareVersions(v, parseVersion(since)) >= 0;
}

/** Every version the model accepts, oldest first. */
export function knownVersions(): KernelVersion[] {
  const versions: KernelVersion[] = [];
  for (let major = OLDEST_VERSION.major; major <= NEWEST_VERSION.major; major++) {
    const first = major === OLDEST_VERSION.major ? OLDEST_VERSION.minor : 0;
    const last = major === NEWEST_VERSION.major ? NEWEST_VERSION.minor : LAST_MINOR[major];
    if (last === undefined) continue;
    for (let minor = first; minor <= last; minor++) versions.push({ major, minor });
  }
  return versions;
}

/**
 * Checks that the model describes `v`. Versions older than 4.12 predate the
 * scope API; versions newer than the newest known one are refused rather than
 * silently treated as something they may not be.
 */
export function checkSupported(v: KernelVersion): KernelVersion {
  if (compareVersions(v, OLDEST_VERSION) < 0) {
    throw new VersionError(
      `kernel ${formatVersion(v)} is older than ${formatVersion(OLDEST_VERSION)}, where memalloc_nofs_save() appeared; the model does not describe it`,
    );
  }
  if (compareVersions(v, NEWEST_VERSION) > 0) {
    throw new VersionError(
      `kernel ${formatVersion(v)} is newer than the newest version the model knows (${formatVersion(NEWEST_VERSION)})`,
    );
  }
  const last = LAST_MINOR[v.major];
  if (last !== undefined && v.minor > last) {
    throw new VersionError(`there is no kernel ${formatVersion(v)} (the ${v.major}.x series ended at ${v.major}.${last})`);
  }
  return v;
}

/**
 * Reads VERSION and PATCHLEVEL (and SUBLEVEL) from the text of a kernel tree's
 * top-level Makefile. Returns undefined when the text is not such a Makefile.
 */
export function versionFromMakefile(text: string): { version: KernelVersion; full: string } | undefined {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*=\\s*(\\S*)\\s*$`, 'm').exec(text);
    return m ? m[1] : undefined;
  };
  const major = field('VERSION');
  const minor = field('PATCHLEVEL');
  if (major === undefined || minor === undefined || !/^\d+$/.test(major) || !/^\d+$/.test(minor)) return undefined;
  const sub = field('SUBLEVEL');
  const extra = field('EXTRAVERSION') ?? '';
  const full = `${major}.${minor}${sub !== undefined && sub !== '' ? `.${sub}` : ''}${extra}`;
  return { version: { major: Number(major), minor: Number(minor) }, full };
}
