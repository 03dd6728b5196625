// Finding the kernel tree a path belongs to, its version (top-level Makefile)
// and its composite masks (include/linux/gfp_types.h, or gfp.h before 6.0).
// The pure parsing lives in shared/; this is the I/O around it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { masksFromHeader } from '../shared/model/gfp-model';
import { checkSupported, compareVersions, formatVersion, NEWEST_VERSION, NEWEST_VERIFIED_VERSION, versionFromMakefile, type KernelVersion } from '../shared/model/version';

export interface KernelTree {
  readonly root: string;
  readonly version: KernelVersion;
  /** As the Makefile says it: 6.12.117. */
  readonly fullVersion: string;
  readonly gfpHeader?: { readonly path: string; readonly masks: ReadonlyMap<string, string> };
}

/** Walks up from `start` to the first directory with a kernel Makefile. */
export function findKernelTree(start: string): KernelTree | undefined {
  let dir = path.resolve(start);
  try {
    if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  for (;;) {
    const tree = readKernelTree(dir);
    if (tree) return tree;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function readKernelTree(root: string): KernelTree | undefined {
  let makefile: string;
  try {
    makefile = fs.readFileSync(path.join(root, 'Makefile'), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = versionFromMakefile(makefile);
  if (!parsed) return undefined;
  // A Makefile with VERSION/PATCHLEVEL that is not a kernel's would be odd; the
  // kernel's own include/linux confirms it.
  if (!fs.existsSync(path.join(root, 'include', 'linux'))) return undefined;
  let gfpHeader: KernelTree['gfpHeader'];
  for (const rel of ['include/linux/gfp_types.h', 'include/linux/gfp.h']) {
    const file = path.join(root, rel);
    try {
      const masks = masksFromHeader(fs.readFileSync(file, 'utf8'));
      if (masks.has('GFP_KERNEL')) {
        gfpHeader = { path: file, masks };
        break;
      }
    } catch {
      // Not there: try the next one, or fall back to the built-in table.
    }
  }
  return { root, version: parsed.version, fullVersion: parsed.full, ...(gfpHeader ? { gfpHeader } : {}) };
}

export interface VersionChoice {
  readonly version: KernelVersion;
  /** Where it came from, for people: "--kernel-version", "Makefile of /src/linux (6.12.117)", "default". */
  readonly source: string;
  readonly tree?: KernelTree;
  readonly warning?: string;
}

/**
 * The version to model: an explicit choice wins; else the tree's; else the
 * newest version the model has verified. A tree newer than the model knows is
 * modelled as the newest known version, with a warning.
 */
export function chooseVersion(explicit: KernelVersion | undefined, tree: KernelTree | undefined): VersionChoice {
  if (explicit) return { version: checkSupported(explicit), source: 'command line', ...(tree ? { tree } : {}) };
  if (tree) {
    if (compareVersions(tree.version, NEWEST_VERSION) > 0) {
      return {
        version: NEWEST_VERSION,
        source: `Makefile of ${tree.root} (${tree.fullVersion})`,
        tree,
        warning: `kernel ${tree.fullVersion} is newer than the model knows; using ${formatVersion(NEWEST_VERSION)}`,
      };
    }
    return { version: checkSupported(tree.version), source: `Makefile of ${tree.root} (${tree.fullVersion})`, tree };
  }
  return { version: NEWEST_VERIFIED_VERSION, source: 'default (no kernel tree found)' };
}
