// The Markdown the "GFP Lens: Explain GFP Mask…" command shows: the same facts
// as `gfp-lens explain` (shared/explain.ts), laid out for a preview. Pure, so
// it is tested without VS Code.

import type { Explanation } from '../shared/explain';

const yesNo = (t: string): string => (t === 'yes' ? 'yes' : t === 'no' ? 'no' : 'unknown (depends on config)');
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

export function explanationMarkdown(e: Explanation): string {
  const out: string[] = [];
  out.push(`# ${code(e.input.trim())}`, '');
  out.push(`**${code(e.canonical)}** = ${code(e.hex)} — kernel ${e.kernel}, masks from ${e.maskSource}`, '');
  out.push('| flag | value | meaning |', '|---|---|---|');
  for (const b of e.bits) out.push(`| ${code(b.name)} | ${b.hex ? code(b.hex) : `(${b.config ?? 'config'} off)`} | ${b.meaning.replace(/\|/g, '\\|')} |`);
  if (e.bits.length === 0) out.push('| (none) | | |');
  if (e.effective) out.push('', `Inside ${e.scopes.map(code).join(' + ')}: **${code(e.effective.canonical)}** (${code(e.effective.hex)})`);
  out.push('', '| | |', '|---|---|');
  out.push(`| may sleep | ${yesNo(e.mayBlock)} |`);
  out.push(`| may enter direct reclaim | ${yesNo(e.directReclaim)} |`);
  out.push(`| may start IO | ${yesNo(e.mayStartIo)} |`);
  out.push(`| may recurse into the filesystem | ${yesNo(e.mayRecurseFs)} |`);
  out.push(`| may use reserves | ${e.reserves} |`);
  out.push(`| may fail | ${yesNo(e.mayFail)} |`);
  out.push(`| warns on failure | ${yesNo(e.warnsOnFailure)} |`);
  if (e.notes.length > 0) out.push('', ...e.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}
