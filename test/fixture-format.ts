// The fixture format: C files under test/fixtures/ with `//` annotations (kernel
// code uses `/* */`, so `//` marks the test's own words).
//
//   // ### name                     starts a case (a name for failures; the file is analysed whole)
//   // kernel: 6.8                  (file header) the kernel version to model; default 6.12
//   p = kmalloc(n, GFP_NOFS); // ctx: GFP_NOIO              effective mask(s) of the site on this line
//   p = kmalloc(n, GFP_NOFS); // ctx: GFP_KERNEL | GFP_NOFS  several variants: list them with ' || '
//   p = kmalloc(n, GFP_NOFS); // ctx: unknown               the context cannot be known
//   p = kmalloc(n, gfp);      // site: fs=varies atomic=no  JSON site verdicts (any subset)
//   ... // !gfp/redundant-nofs                              a finding starting on this line
//   ... // !gfp/sleep-in-atomic(warning)                    ... with its severity
//   ... // !scope/unbalanced ~"line 12"                     ... whose message contains the text
//
// Findings are exhaustive: one that is not annotated fails the fixture.
// Annotations may also sit on a line of their own right after the code:
//   //^ !gfp/partial-scope                                  (refers to the line above)

export interface ExpectedFinding {
  readonly line: number;
  readonly code: string;
  readonly severity?: string;
  readonly contains?: string;
}

export interface ExpectedSite {
  readonly line: number;
  readonly ctx?: readonly string[];
  readonly verdicts?: Readonly<Record<string, string>>;
}

export interface Fixture {
  readonly version?: string;
  readonly findings: readonly ExpectedFinding[];
  readonly sites: readonly ExpectedSite[];
  /** Case name for each line (0-based). */
  readonly caseOf: readonly string[];
}

export function parseFixture(text: string): Fixture {
  const lines = text.split('\n');
  const findings: ExpectedFinding[] = [];
  const sites: ExpectedSite[] = [];
  const caseOf: string[] = [];
  let version: string | undefined;
  let current = '(top)';
  lines.forEach((raw, i) => {
    const header = /^\s*\/\/\s*###\s*(.*)$/.exec(raw);
    if (header) current = header[1].trim();
    caseOf.push(current);
    const kernel = /^\s*\/\/\s*kernel:\s*(\S+)/.exec(raw);
    if (kernel) version = kernel[1];
    const at = raw.indexOf('//');
    if (at < 0 || header || kernel) return;
    let comment = raw.slice(at + 2);
    let line = i;
    if (comment.startsWith('^')) {
      comment = comment.slice(1);
      line = i - 1;
    }
    const ctx = /\bctx:\s*(.*?)\s*(?=\s!|\ssite:|$)/.exec(comment);
    const site = /\bsite:\s*((?:\w+=\w+\s*)+)/.exec(comment);
    if (ctx || site) {
      const verdicts: Record<string, string> = {};
      if (site) for (const pair of site[1].trim().split(/\s+/)) {
        const [k, v] = pair.split('=');
        verdicts[k] = v;
      }
      sites.push({ line, ...(ctx ? { ctx: ctx[1].split('||').map((s) => s.trim()) } : {}), ...(site ? { verdicts } : {}) });
    }
    const re = /!([a-z]+\/[a-z-]+)(?:\((\w+)\))?(?:\s+~"([^"]*)")?/g;
    for (let m = re.exec(comment); m; m = re.exec(comment)) {
      findings.push({ line, code: m[1], ...(m[2] ? { severity: m[2] } : {}), ...(m[3] !== undefined ? { contains: m[3] } : {}) });
    }
  });
  return { ...(version ? { version } : {}), findings, sites, caseOf };
}
