// The browser-level test: Debian's Chromium (playwright-core, no browser
// download) drives code-server's workbench with the installed .vsix. It also
// keeps the page open until the in-host integration suite has written its
// result (the extension host only runs while a workbench is connected), then:
// opens ui.c from the Explorer, waits for the squiggle and the Problems entry,
// hovers over the allocation and screenshots the hover, checks the status bar
// item, and applies the headline quick fix through the Quick Fix menu.
// Usage: node ui.js URL ; env RESULT (suite result file), ARTIFACTS (screenshots),
// PLAYWRIGHT (path of playwright-core). Exit 0 = pass.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT);

const URL = process.argv[2];
const ARTIFACTS = process.env.ARTIFACTS;
const T = 60000;
fs.mkdirSync(ARTIFACTS, { recursive: true });
const t0 = Date.now();
const lap = (m) => console.log(`[ui ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

/** The on-screen box of the first occurrence of `word` in an editor line (tokens share spans). */
function wordBox(page, word, lineHas = word) {
  return page.evaluate(([w, has]) => {
    for (const line of document.querySelectorAll('.monaco-editor .view-lines .view-line')) {
      if (!line.textContent.includes(has)) continue;
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.data.indexOf(w);
        if (i >= 0) {
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + w.length);
          const b = r.getBoundingClientRect();
          return { x: b.x, y: b.y, width: b.width, height: b.height };
        }
      }
    }
    return null;
  }, [word, lineHas]);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  let ok = false;
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.setDefaultTimeout(T);
  try {
    await page.goto(URL);
    await page.waitForSelector('.monaco-workbench');
    await page.waitForSelector('.explorer-folders-view .monaco-list-row');
    lap('workbench loaded');

    // The in-host suite runs now; wait for its result before touching the UI.
    const end = Date.now() + 120000;
    while (!fs.existsSync(process.env.RESULT) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    if (!fs.existsSync(process.env.RESULT)) throw new Error('the integration suite wrote no result within 120 s');
    lap('integration suite finished');

    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^ui\.c$/ }).first().dblclick();
    await page.waitForSelector('.monaco-editor .view-line >> text=kzalloc');
    lap('ui.c open');

    // Diagnostics: the information squiggle and the Problems panel entry.
    await page.waitForSelector('.monaco-editor .squiggly-info');
    await page.keyboard.press('Control+Shift+M');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'GFP_NOFS outside any scope' }).first();
    await problem.waitFor({ state: 'visible' });
    lap('Problems panel: ' + (await problem.innerText()).replace(/\s+/g, ' ').slice(0, 120));
    const rows = await page.locator('.markers-panel .monaco-list-row', { hasText: 'gfp/nofs-outside-scope' }).count();
    if (rows < 2) throw new Error(`expected 2 gfp/nofs-outside-scope rows in the Problems panel, saw ${rows}`);

    // Status bar item.
    const item = page.locator('.statusbar-item', { hasText: 'GFP 6.12 (tree)' }).first();
    await item.waitFor({ state: 'visible' });
    lap('status bar: ' + (await item.innerText()));

    // Hover over the allocation.
    const box = await wordBox(page, 'kzalloc');
    if (!box) throw new Error('kzalloc not found in the editor');
    await page.mouse.move(box.x + 2, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
    const hover = page.locator('.monaco-hover', { hasText: 'Effective:' }).first();
    await hover.waitFor({ state: 'visible' });
    const hoverText = await hover.innerText();
    lap('hover: ' + hoverText.split('\n')[0]);
    if (!/Effective: GFP_NOFS \| __GFP_ZERO \| __GFP_NOFAIL/.test(hoverText)) throw new Error(`unexpected hover: ${hoverText}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'hover.png') });

    // The headline quick fix through the Quick Fix menu.
    await page.mouse.move(5, 5);
    const nofs = await wordBox(page, 'GFP_NOFS', 'kzalloc(');
    await page.mouse.click(nofs.x + nofs.width / 2, nofs.y + nofs.height / 2);
    const action = page.locator('.action-widget .monaco-list-row', { hasText: 'Replace GFP_NOFS with scope at transaction start: gfs2_trans_begin()' }).first();
    for (let i = 1; ; i++) {
      await page.keyboard.press('Control+.');
      try {
        await action.waitFor({ state: 'visible', timeout: 5000 });
        break;
      } catch (e) {
        if (i >= 4) throw e;
        lap(`Quick Fix menu not shown yet, retry ${i}`);
      }
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'quick-fix.png') });
    await action.click();
    await page.waitForSelector('.monaco-editor .view-line >> text=nofs_flag = memalloc_nofs_save();');
    await page.waitForSelector('.monaco-editor .squiggly-info', { state: 'detached' });
    lap('quick fix applied; squiggles gone');
    await page.screenshot({ path: path.join(ARTIFACTS, 'after-fix.png') });
    ok = true;
  } catch (e) {
    console.log('FAIL (ui):', String(e.message).split('\n')[0]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => {});
  } finally {
    await browser.close();
    process.exit(ok ? 0 : 1);
  }
})();
