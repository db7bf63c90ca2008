// Explore: a PromQL query draws a graph from the seeded counters; completion offers metric
// names from the API; an engine error is shown readably next to the query; table and instant
// modes; the previous result stays while a new query runs.

export default [
  {
    name: 'a PromQL query draws a graph',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/explore');
      await page.waitForSelector('textarea[aria-label="PromQL query"]');
      await page.fill('textarea[aria-label="PromQL query"]', 'sum by (code) (rate(http_requests_total{job="checkout"}[5m]))');
      await page.keyboard.press('Control+Enter');
      await page.waitForSelector('.ex-result .uplot canvas');
      const u = new URL(page.url());
      expect.eq(u.searchParams.get('q'), 'sum by (code) (rate(http_requests_total{job="checkout"}[5m]))', 'query in the URL');
      const stats = await page.textContent('.ex-stats');
      expect(/^2 series, \d+ points/.test(stats), `two series (code 200 and 500): ${stats}`);
      const legend = await page.textContent('.ex-result .u-legend');
      expect(legend.includes('code="500"') && legend.includes('code="200"'), `legend names both series: ${legend}`);
      await shot('lines');
      await page.click('.vg-seg button[data-v="stacked"]');
      await page.waitForSelector('.ex-result .uplot canvas');
      await page.click('.vg-seg button[data-v="table"]');
      await page.waitForSelector('.ex-table');
      expect.eq(await page.locator('.ex-table tbody tr').count(), 2, 'table rows');
    },
  },
  {
    name: 'autocomplete offers metric names',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/explore');
      const ta = page.locator('textarea[aria-label="PromQL query"]');
      await ta.click();
      await page.keyboard.type('http_req');
      await page.waitForSelector('.vg-complete:not([hidden]) div');
      const first = await page.textContent('.vg-complete div.sel');
      expect(first.includes('http_requests_total'), `first suggestion: ${first}`);
      await page.keyboard.press('Tab');
      expect.eq(await ta.inputValue(), 'http_requests_total', 'Tab accepts the suggestion');
      await page.keyboard.type('{');
      await page.keyboard.press('Control+Space');
      await expect.poll(async () => {
        const labels = await page.textContent('.vg-complete:not([hidden])');
        return labels.includes('code') && labels.includes('job');
      }, 'label names offered');
      await page.keyboard.type('jo');
      await expect.poll(async () => (await page.textContent('.vg-complete div.sel')).endsWith('job'), 'job selected');
      await page.keyboard.press('Enter');
      expect.eq(await ta.inputValue(), 'http_requests_total{job="', 'label accepted with ="');
      await page.waitForSelector('.vg-complete:not([hidden]) div');
      const vals = await page.textContent('.vg-complete');
      expect(vals.includes('checkout') && vals.includes('frontend'), `label values offered: ${vals}`);
      await shot('values');
    },
  },
  {
    name: 'engine errors show next to the query and the previous result stays',
    allowFailures: ['/api/v1/query_range'],
    async run({page, base, expect, shot}) {
      await page.goto(base + '/explore?q=' + encodeURIComponent('sum(rate(http_requests_total[5m]))'));
      await page.waitForSelector('.ex-result .uplot canvas');
      await page.fill('textarea[aria-label="PromQL query"]', 'sum(rate(http_requests_total[5m])');
      await page.click('button:has-text("Run")');
      await page.waitForSelector('.vg-error');
      const msg = await page.textContent('.vg-error');
      expect(/parse error/.test(msg) && msg.includes('HTTP 400'), `readable engine error: ${msg}`);
      expect((await page.locator('.ex-result .uplot canvas').count()) > 0, 'the previous graph is still shown');
      await shot('error');
    },
  },
  {
    name: 'a capped graph says so',
    async run({page, base, expect, shot}) {
      // One series per metric name: Vigil's own metrics alone are well over 100.
      await page.goto(base + '/explore?q=' + encodeURIComponent('count by (__name__) ({__name__=~".+"})'));
      await page.waitForSelector('.ex-result .uplot canvas');
      const n = await page.textContent('.vg-notice');
      expect(/^Graph shows 100 of [\d,]+ series/.test(n), `cap stated: ${n}`);
      await shot('capped');
    },
  },
  {
    name: 'instant query as a table',
    async run({page, base, expect}) {
      await page.goto(base + '/explore?mode=instant&q=' + encodeURIComponent('queue_depth'));
      await page.waitForSelector('.ex-table');
      const row = await page.textContent('.ex-table tbody tr');
      expect(row.includes('queue="orders"'), `instant vector row: ${row}`);
    },
  },
];
