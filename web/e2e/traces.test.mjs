// Traces: search (scatter and list), the waterfall of a seeded trace with the right number of
// spans, the span filter hiding spans, the critical path from the worker, span details and
// the logs link; a 10,000-span trace opening and scrolling (timings printed, not asserted);
// the 12,000-span trace going through the tree API or saying why it cannot; the service graph.

const rowsShown = (page) => page.$$eval('.wf-row', (rows) => rows.length);

export default [
  {
    name: 'search shows seeded traces as a scatter and a list',
    async run({page, base, seed, expect, shot}) {
      await page.goto(base + '/traces?service=frontend&from=now-2h&to=now');
      await page.waitForSelector('.tr-list tbody tr');
      const n = await page.$$eval('.tr-list tbody tr', (r) => r.length);
      expect.eq(n, seed.traceIDs.length, 'every seeded frontend trace is listed');
      expect(await page.$('.tr-scatter canvas'), 'the scatter is drawn');
      const started = await page.textContent('.tr-list tbody tr td:nth-child(2)');
      expect(started.includes('UTC'), `start time names its zone: ${started}`);
      await shot('search');
      // Opening a result from the list.
      await page.click('.tr-list tbody tr a');
      await page.waitForSelector('.wf-row');
      expect(/\/traces\/[0-9a-f]{16,32}$/.test(new URL(page.url()).pathname), `opened ${page.url()}`);
    },
  },
  {
    name: 'a trace opens as a waterfall with the right number of spans',
    async run({page, base, seed, expect, shot}) {
      const id = seed.failingTraceIDs[0];
      await page.goto(`${base}/traces/${id}`);
      await page.waitForSelector('.wf-row');
      expect.eq(await rowsShown(page), seed.spansPerTrace, 'one row per span');
      expect.eq((await page.textContent('.tr-span-count strong')).trim(), String(seed.spansPerTrace), 'span count in the header');
      // The critical path arrives from the worker.
      await page.waitForSelector('.tr-crit-info[data-done="1"]');
      expect((await page.$$('.wf-crit')).length > 0, 'critical path segments drawn');
      // Logs link for the trace.
      const href = await page.getAttribute('.tr-logs', 'href');
      expect(href.includes(encodeURIComponent(`trace_id:${id}`)), `logs link: ${href}`);
      // Hiding filter: only the payment span and its ancestors remain; SELECT orders goes.
      await page.fill('.tr-filter', 'service=payment');
      await expect.poll(async () => (await page.textContent('.tr-filter-info')).includes('1 of 6'), 'one span matches');
      expect.eq(await rowsShown(page), 6, 'highlight mode keeps every row');
      await page.check('#tr-hide');
      await expect.poll(async () => (await rowsShown(page)) === 5, 'hide mode drops the non-matching branch');
      expect(!(await page.textContent('.wf-rows')).includes('SELECT orders'), 'the SELECT orders span is hidden');
      expect.eq(new URL(page.url()).searchParams.get('hide'), '1', 'hide is in the URL');
      await shot('filtered');
      await page.selectOption('select[aria-label="Theme"]', 'dark');
      await page.waitForSelector('html[data-theme="dark"]');
      await shot('filtered-dark');
      await page.selectOption('select[aria-label="Theme"]', 'light');
      // Details of the failing payment span.
      await page.click('.wf-row.match');
      await page.waitForSelector('.tr-detail:not([hidden]) .tr-detail-body');
      const detail = await page.textContent('.tr-detail');
      expect(detail.includes('card declined'), 'status message shown');
      expect(detail.includes('rpc.system'), 'attributes shown');
      expect(detail.includes('service.version'), 'resource shown');
      // Collapsing the root hides everything under it.
      await page.uncheck('#tr-hide');
      await page.fill('.tr-filter', '');
      await page.click('.wf-row >> nth=0 >> .wf-toggle');
      await expect.poll(async () => (await rowsShown(page)) === 1, 'collapsed root leaves one row');
    },
  },
  {
    name: 'a 10,000-span trace opens and scrolls',
    async run({page, base, seed, expect, shot}) {
      await page.goto(`${base}/traces`);
      await page.waitForSelector('.tr-page');
      // Navigate inside the app and time until the rows are on screen.
      const openMs = await page.evaluate(async (id) => {
        const t0 = performance.now();
        history.pushState(null, '', `/traces/${id}`);
        dispatchEvent(new PopStateEvent('popstate'));
        for (let i = 0; i < 600; i++) {
          await new Promise((r) => requestAnimationFrame(r));
          if (document.querySelector('.wf-row')) return performance.now() - t0;
        }
        return -1;
      }, seed.bigTraceID);
      expect(openMs >= 0, 'waterfall rows appeared');
      expect.eq((await page.textContent('.tr-span-count strong')).trim(), '10,000', 'all 10,000 spans counted');
      const dom = await rowsShown(page);
      expect(dom > 10 && dom < 200, `only the rows in view exist in the DOM (${dom})`);
      await shot('top');
      // Scroll to the bottom in 20 steps, one frame each; the last span must be rendered.
      const scroll = await page.evaluate(async () => {
        const el = document.querySelector('.wf-scroll');
        const steps = 20, frames = [];
        for (let i = 1; i <= steps; i++) {
          const t = performance.now();
          el.scrollTop = (el.scrollHeight * i) / steps;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          frames.push(performance.now() - t);
        }
        return {max: Math.max(...frames), total: frames.reduce((a, b) => a + b, 0), rows: el.scrollHeight / 24};
      });
      expect.eq(Math.round(scroll.rows), 10000, 'the scroll area holds 10,000 rows');
      await expect.poll(async () => (await page.$$eval('.wf-row', (r) => Math.max(...r.map((x) => parseFloat(x.style.top))))) === 9999 * 24, 'last row rendered after scrolling');
      await page.waitForSelector('.tr-crit-info[data-done="1"]', {timeout: 30_000});
      console.log(`  figures: 10,000-span trace: rows on screen ${openMs.toFixed(0)} ms after navigation; ` +
        `20 scroll steps took ${scroll.total.toFixed(0)} ms (slowest step ${scroll.max.toFixed(0)} ms, two frames each)`);
    },
  },
  {
    name: 'a trace over 10,000 spans states what it left out',
    // /tree answers 404 until the traces engineer adds it; the page must say so readably.
    allowFailures: ['/tree'],
    async run({page, base, seed, expect}) {
      await page.goto(`${base}/traces/${seed.hugeTraceID}`);
      await page.waitForSelector('.wf-row, .tr-error .vg-error');
      if (await page.$('.wf-row')) {
        const cap = await page.textContent('.tr-cap');
        expect(cap.includes('12,000'), `the cap names the whole trace: ${cap}`);
        expect((await page.textContent('.tr-crit-info')).includes('not computed'), 'critical path says why it is not computed');
        // Expanding a span whose children are not loaded yet loads them from the server.
        const before = await rowsShown(page);
        const loaded = (await page.textContent('.tr-cap')).match(/Showing ([\d,]+) of/)[1];
        await page.click('.wf-row:has(.wf-count) .wf-toggle');
        await expect.poll(async () => !(await page.textContent('.tr-cap')).includes(`Showing ${loaded} of`), 'more spans loaded');
        expect((await rowsShown(page)) >= before, 'the children are shown');
      } else {
        const msg = await page.textContent('.tr-error');
        expect(msg.includes('more than 10,000 spans') && msg.includes('/tree'), `clear message: ${msg}`);
      }
    },
  },
  {
    name: 'service graph shows the seeded services',
    async run({page, base, seed, expect}) {
      await page.goto(base + '/services-graph?from=now-2h&to=now');
      await page.waitForSelector('.sg-svg .sg-node');
      const names = await page.$$eval('.sg-node title', (t) => t.map((x) => x.textContent));
      for (const s of seed.services) expect(names.includes(s), `node ${s} in ${names.join(', ')}`);
      expect((await page.$$('.sg-edge')).length >= 2, 'edges drawn');
    },
  },
];
