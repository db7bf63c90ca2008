// Logs: a search shows the seeded hits and the volume histogram; 10,000 lines scroll in a
// virtualised list; a 1 MB line is truncated with "expand"; the field sidebar filters; the
// live tail shows a line posted after it started; trace_id links to the trace.

const LIST = '.logs-list';

export default [
  {
    name: 'a log search shows the seeded hits and the histogram',
    async run({page, base, seed, expect, shot}) {
      await page.goto(base + '/logs');
      await page.fill('input[aria-label="Log query"]', '"connection refused"');
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await page.textContent('.logs-histo-status, .vg-card .vg-small.vg-muted span + div')) !== null, 'status');
      await page.waitForSelector(`${LIST} .vl-row`);
      await expect.poll(async () => (await page.textContent('.vg-card')).includes(`${seed.refusedLines} matching lines`), `${seed.refusedLines} matching lines reported`);
      const first = await page.textContent(`${LIST} .vl-row .log-msg`);
      expect(first.includes('connection refused'), `first hit: ${first}`);
      await page.waitForSelector('.logs-histo .uplot canvas');
      const legend = await page.textContent('.logs-histo .u-legend');
      expect(legend.includes('error'), `histogram legend has the error level: ${legend}`);
      expect((await page.textContent('.vl-row .log-time')).includes('UTC'), 'each line names its zone');
      await shot('hits');
      // Expand a line: fields, and its trace link.
      await page.click(`${LIST} .vl-row .log-msg`);
      await page.waitForSelector('.vl-detail .log-fields');
      const link = await page.getAttribute('.vl-detail a[href^="/traces/"]', 'href');
      expect(seed.failingTraceIDs.some((id) => link.endsWith(id)), `trace link ${link}`);
      await shot('expanded');
    },
  },
  {
    name: 'the field sidebar filters by a top value',
    async run({page, base, seed, expect}) {
      await page.goto(base + '/logs');
      // Everything in the last hour is more than the default 1,000 lines: the cap is stated.
      await page.waitForSelector('.vg-notice');
      const n = await page.textContent('.vg-notice');
      expect(n.startsWith('Showing 1,000 of ') && n.includes('narrow the range'), `cap stated: ${n}`);
      await page.waitForSelector('.logs-side details[data-field="level"] .fv');
      await page.click('.logs-side details[data-field="level"] .fv[title^="level:error"]');
      await expect.poll(() => new URL(page.url()).searchParams.get('q') === 'level:error', 'query set from the sidebar');
      await expect.poll(async () => {
        const lv = await page.locator(`${LIST} .vl-row .log-lvl`).allTextContents();
        return lv.length > 0 && lv.every((x) => x.toLowerCase() === 'error');
      }, 'only error lines listed');
    },
  },
  {
    name: '10,000 lines scroll in a virtualised list',
    async run({page, base, seed, expect, shot}) {
      await page.goto(base + '/logs?limit=10000&q=' + encodeURIComponent(`service:${seed.bulkService}`));
      await expect.poll(async () => (await page.evaluate(() => window.vigil.current && document.querySelector('.logs-list .vl-spacer').style.height)) === `${seed.bulkLines * 24}px`,
        'all 10,000 rows in the list', {timeout: 30_000});
      const rows = await page.locator(`${LIST} .vl-row`).count();
      expect(rows < 200, `only the rows in view are in the DOM (${rows})`);
      // Scroll to the bottom in 40 steps, each waiting for two frames, as a reader flinging
      // the list would: the oldest line appears. The timings are printed, not asserted.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
      const m0 = await metrics();
      const t = await page.evaluate(async () => {
        const el = document.querySelector('.logs-list');
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        const steps = [];
        for (let i = 1; i <= 40; i++) {
          const t0 = performance.now();
          el.scrollTop = (el.scrollHeight * i) / 40;
          await frame();
          await frame();
          steps.push(performance.now() - t0);
        }
        return {total: steps.reduce((a, b) => a + b, 0), max: Math.max(...steps)};
      });
      const m1 = await metrics();
      const d = (k) => m1[k] - m0[k];
      console.log(`  figures: 10,000 log lines: 40 scroll steps ${Math.round(t.total)} ms wall (slowest ${Math.round(t.max)} ms, two frames each); ` +
        `renderer CPU ${Math.round(d('TaskDuration') * 1000)} ms: script ${Math.round(d('ScriptDuration') * 1000)}, style ${Math.round(d('RecalcStyleDuration') * 1000)} (${d('RecalcStyleCount')} recalcs), layout ${Math.round(d('LayoutDuration') * 1000)} ms (${d('LayoutCount')} layouts)`);
      await expect.poll(async () => (await page.locator(`${LIST} .log-msg`).allTextContents()).includes('synthetic line 0'), 'oldest line reached');
      expect((await page.locator(`${LIST} .vl-row`).count()) < 200, 'still virtualised after scrolling');
      await shot('bottom');
    },
  },
  {
    name: 'a 1 MB line is truncated with expand',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/logs?q=' + encodeURIComponent('huge'));
      await page.waitForSelector(`${LIST} .log-trunc`);
      const len = await page.evaluate(() => document.querySelector('.logs-list .log-msg').textContent.length);
      expect(len < 1000, `row shows a preview (${len} chars)`);
      await page.click(`${LIST} .log-msg`);
      await page.waitForSelector('.vl-detail button:has-text("expand")');
      expect((await page.textContent('.vl-detail pre')).length < 10_000, 'raw preview before expand');
      await page.click('.vl-detail button:has-text("expand")');
      await expect.poll(async () => (await page.evaluate(() => document.querySelector('.vl-detail pre').textContent.length)) > 1_000_000, 'whole line after expand');
      await shot('expanded');
    },
  },
  {
    name: 'dragging on the histogram narrows the range',
    async run({page, base, expect}) {
      await page.goto(base + '/logs?from=now-1h&to=now');
      await page.waitForSelector('.logs-histo .uplot .u-over');
      const box = await page.locator('.logs-histo .u-over').boundingBox();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, {steps: 5});
      await page.mouse.up();
      await expect.poll(() => /^\d{4}-/.test(new URL(page.url()).searchParams.get('from') || ''), 'absolute range set from the drag');
      const u = new URL(page.url());
      const w = Date.parse(u.searchParams.get('to')) - Date.parse(u.searchParams.get('from'));
      expect(w > 5 * 60e3 && w < 20 * 60e3, `about a fifth of the hour selected (${w} ms)`);
    },
  },
  {
    name: 'a bad query is explained next to the box and the previous lines stay',
    allowFailures: ['/api/v1/logs/'],
    async run({page, base, expect, shot}) {
      await page.goto(base + '/logs?q=level:error');
      await page.waitForSelector(`${LIST} .vl-row`);
      await page.fill('input[aria-label="Log query"]', 'level:error AND (');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.vg-error');
      const msg = await page.textContent('.vg-error');
      expect(msg.includes('HTTP 400'), `readable error: ${msg}`);
      expect((await page.locator(`${LIST} .vl-row`).count()) > 0, 'previous lines still listed');
      expect((await page.locator('.logs-histo .uplot').count()) === 1, 'previous histogram still drawn');
      expect((await page.locator('.vg-error').count()) === 1, 'one error, next to the query');
      await shot('error');
    },
  },
  {
    name: 'live tail shows a new line',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/logs?live=1&q=' + encodeURIComponent('service:tailtest'));
      await expect.poll(async () => (await page.getAttribute('button[title^="Stream"]', 'aria-pressed')) === 'true', 'live on');
      await expect.poll(async () => (await page.textContent('.vg-card')).includes('live:'), 'tail connected');
      const r = await fetch(base + '/api/v1/logs', {method: 'POST', headers: {'Content-Type': 'application/x-ndjson'},
        body: JSON.stringify({level: 'info', service: 'tailtest', msg: 'hello from the tail test'}) + '\n'});
      expect(r.ok, 'posted a line');
      await expect.poll(async () => (await page.locator(`${LIST} .log-msg`).allTextContents()).includes('hello from the tail test'), 'tailed line shown', {timeout: 20_000});
      await shot('tail');
    },
  },
];
