// What a document is analysed with: its validated settings (read per
// resource), the kernel version and masks (from the tree around the file when
// the version is "auto"), the analysis context and the parser. Contexts and
// parsers are shared by every document with the same inputs.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateSettings, type Settings } from '../../shared/settings';
import { formatVersion, parseVersion } from '../../shared/model/version';
import { AnalysisContext } from '../analysis/context';
import { chooseVersion, findKernelTree, type KernelTree } from '../kernel-tree';
import type { BackendChoice, CParser } from '../syntax/backend';
import { createParser } from '../syntax/parser';
import { indexKey } from '../analysis/index-key';
import type { AllocatorDef } from '../../shared/model/allocators';
import type { TransactionDef } from '../../shared/model/transactions';

export interface DocumentConfig {
  readonly settings: Settings;
  readonly context: AnalysisContext;
  /** Changes whenever the context would analyse differently (function cache key). */
  readonly contextKey: string;
  readonly parser: CParser;
  /** "kernel 6.12 (Makefile of /src/linux (6.12.117))", for hovers and logs. */
  readonly kernel: string;
  /** The workspace index this document's analysis uses: of the kernel tree around it, unless the settings turn it off. */
  readonly index?: IndexConfig;
}

/** What the workspace index of one tree is built with; documents with equal `id`s share one index. */
export interface IndexConfig {
  readonly root: string;
  /** The cache key (tool, analysis code, version, masks) and the model's additions. */
  readonly id: string;
  readonly key: string;
  readonly version: string;
  readonly treeMasks?: { readonly masks: ReadonlyArray<[string, string]>; readonly path: string };
  readonly extra?: { readonly allocators: readonly AllocatorDef[]; readonly transactions: readonly TransactionDef[] };
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

export interface ConfigSource {
  /** The raw `gfp-lens` section for a resource (workspace/configuration), or undefined. */
  read(uri: string): Promise<unknown>;
  /** Problems with a resource's settings, reported once per distinct message. */
  report(problems: readonly string[]): void;
}

export class ConfigProvider {
  private readonly perUri = new Map<string, Promise<DocumentConfig>>();
  private readonly contexts = new Map<string, AnalysisContext>();
  private readonly parsers = new Map<BackendChoice, Promise<CParser>>();
  private readonly trees = new Map<string, KernelTree | undefined>();

  constructor(private readonly source: ConfigSource) {}

  config(uri: string): Promise<DocumentConfig> {
    let p = this.perUri.get(uri);
    if (!p) {
      p = this.build(uri);
      this.perUri.set(uri, p);
      // A failed read is retried next time rather than cached.
      p.catch(() => this.perUri.delete(uri));
    }
    return p;
  }

  /** Settings changed: re-read on next use (parsers and kernel trees stay). */
  reset(): void {
    this.perUri.clear();
    this.contexts.clear();
  }

  forget(uri: string): void {
    this.perUri.delete(uri);
  }

  dispose(): void {
    for (const p of this.parsers.values()) p.then((x) => x.dispose(), () => undefined);
    this.parsers.clear();
  }

  private async build(uri: string): Promise<DocumentConfig> {
    let raw: unknown;
    try {
      raw = await this.source.read(uri);
    } catch {
      raw = undefined; // A client without configuration support: defaults.
    }
    const { settings, problems } = validateSettings(raw);
    if (problems.length > 0) this.source.report(problems);
    const around = this.kernelTree(uri);
    const tree = settings.kernelVersion === 'auto' ? around : undefined;
    const choice = chooseVersion(settings.kernelVersion === 'auto' ? undefined : parseVersion(settings.kernelVersion), tree);
    const treeMasks = choice.tree?.gfpHeader && settings.kernelVersion === 'auto' ? { masks: choice.tree.gfpHeader.masks, path: choice.tree.gfpHeader.path } : undefined;
    const contextKey = JSON.stringify({
      v: formatVersion(choice.version),
      masks: treeMasks?.path ?? null,
      a: settings.extraAllocators,
      t: settings.extraTransactions,
    });
    let context = this.contexts.get(contextKey);
    if (!context) {
      context = new AnalysisContext(choice.version, {
        extraAllocators: settings.extraAllocators,
        extraTransactions: settings.extraTransactions,
        ...(treeMasks ? { treeMasks } : {}),
      });
      this.contexts.set(contextKey, context);
    }
    let parser: CParser;
    try {
      parser = await this.parser(settings.parserBackend);
    } catch (err) {
      // A backend that does not load here: say so, and use whichever does.
      this.source.report([`gfp-lens.parserBackend: ${settings.parserBackend} does not load (${err instanceof Error ? err.message : String(err)}); using auto`]);
      this.parsers.delete(settings.parserBackend);
      parser = await this.parser('auto');
    }
    return { settings, context, contextKey, parser, kernel: `kernel ${formatVersion(choice.version)} (${choice.source})`, ...(around && settings.index.enabled ? { index: indexConfig(around.root, formatVersion(choice.version), treeMasks, settings) } : {}) };
  }

  private parser(choice: BackendChoice): Promise<CParser> {
    let p = this.parsers.get(choice);
    if (!p) {
      p = createParser(choice);
      this.parsers.set(choice, p);
    }
    return p;
  }

  /** The kernel tree around a file: URI (cached per directory). */
  private kernelTree(uri: string): KernelTree | undefined {
    if (!uri.startsWith('file:')) return undefined;
    let dir: string;
    try {
      dir = path.dirname(fileURLToPath(uri));
    } catch {
      return undefined;
    }
    if (!this.trees.has(dir)) this.trees.set(dir, findKernelTree(dir));
    return this.trees.get(dir);
  }
}

function indexConfig(root: string, version: string, treeMasks: { masks: ReadonlyMap<string, string>; path: string } | undefined, settings: Settings): IndexConfig {
  const masks = treeMasks ? { masks: [...treeMasks.masks] as Array<[string, string]>, path: treeMasks.path } : undefined;
  const extra = settings.extraAllocators.length > 0 || settings.extraTransactions.length > 0 ? { allocators: settings.extraAllocators, transactions: settings.extraTransactions } : undefined;
  // The model's additions change what the analysis finds: part of the cache key.
  const key = extra ? `${indexKey(version, masks)}${JSON.stringify(extra)}` : indexKey(version, masks);
  return {
    root,
    id: JSON.stringify([root, key, settings.index.include, settings.index.exclude]),
    key,
    version,
    ...(masks ? { treeMasks: masks } : {}),
    ...(extra ? { extra } : {}),
    include: settings.index.include,
    exclude: settings.index.exclude,
  };
}
