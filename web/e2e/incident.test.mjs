// The incident timeline: for a seeded service, every lane drawn on one time axis, a shared
// cursor (hovering one lane moves the cursor on all the others to the same instant), clicks
// that open the logs, traces and alerts behind a point, and the links to it from Home and the
// service page.

const LANES = ['rate', 'errors', 'latency', 'logs', 'traces', 'alerts', 'notifications', 'slo'];
// Lanes that must draw a chart for checkout with the seeded data (notifications need a
// receiver, which the test configuration does not have, so that lane may say it is empty).
const DRAWN = ['rate', 'errors', 'latency', 'logs', 'traces', 'alerts', 'slo'];

const laneSel = (k) => `.inc-lane[data-lane="${k}"]`;

/** cursorX(page, lane) -> the x of the lane's cursor line in px within its plot, or null when hidden. */
async function cursorX(page, k) {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel + ' .u-cursor-x');
    if (!c || c.style.display === 'none') return null;
    const m = /translate\(([-\d.]+)px/.exec(c.style.transform || '');
    const x = m ? parseFloat(m[1]) : parseFloat(c.style.left);
    return isFinite(x) && x >= 0 ? x : null;
  }, laneSel(k));
}

/** box(page, lane) -> the lane's plot area in the viewport, scrolled into view first. */
async function box(page, k) {
  const over = page.locator(`${laneSel(k)} .u-over`);
  await over.scrollIntoViewIfNeeded();
  return over.boundingBox();
}

export default [
  {
    name: 'every lane with a shared cursor',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/incident?service=checkout');
      await page.waitForSelector(laneSel('rate'));
      for (const k of LANES) expect((await page.locator(laneSel(k)).count()) === 1, `lane ${k} present`);
      for (const k of DRAWN) {
        await expect.poll(async () => (await page.locator(`${laneSel(k)} .uplot canvas`).count()) > 0, `lane ${k} drawn`, {timeout: 20_000});
      }
      expect.eq(await page.inputValue('.svc-head select'), 'checkout', 'service picked from the URL');
      const alerts = await page.textContent(laneSel('alerts'));
      expect(alerts.includes('CheckoutErrors') || alerts.includes('CheckoutHighLatency'), `alert lane names the checkout alerts: ${alerts.slice(0, 300)}`);
      expect((await page.textContent(laneSel('slo'))).includes('checkout-availability'), 'SLO lane shows the checkout SLO');
      // Every plot spans the same pixels, so one instant is one x everywhere.
      const boxes = await Promise.all(DRAWN.map((k) => page.locator(`${laneSel(k)} .u-over`).boundingBox()));
      for (const b of boxes) expect(Math.abs(b.x - boxes[0].x) < 1.5 && Math.abs(b.width - boxes[0].width) < 1.5, `plots aligned: ${JSON.stringify(boxes)}`);
      await shot('lanes');

      // Hover the latency lane at 60% of its width: every other lane's cursor follows.
      const over = await box(page, 'latency');
      const x = over.width * 0.6;
      await page.mouse.move(over.x + x, over.y + over.height / 2);
      await expect.poll(async () => {
        const xs = await Promise.all(DRAWN.map((k) => cursorX(page, k)));
        return xs.every((v) => v != null && Math.abs(v - x) < 3) ? xs : null;
      }, 'the cursor moved on every lane to the same instant');
      expect(/cursor: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.test(await page.textContent('.inc-cursor')), 'the instant is named with its zone');
      await shot('cursor');
      // Moving over another lane moves them all again.
      const logs = await box(page, 'logs');
      await page.mouse.move(logs.x + logs.width * 0.3, logs.y + logs.height / 2);
      await expect.poll(async () => {
        const xs = await Promise.all(DRAWN.map((k) => cursorX(page, k)));
        return xs.every((v) => v != null && Math.abs(v - logs.width * 0.3) < 3);
      }, 'the cursor follows the log lane');
    },
  },
  {
    name: 'clicks open what is behind a point',
    async run({page, base, expect}) {
      const open = async (k, frac, urlRe, check) => {
        await page.goto(base + '/incident?service=checkout&from=now-1h&to=now');
        await page.waitForSelector(`${laneSel(k)} .uplot canvas`, {timeout: 20_000});
        const b = await box(page, k);
        await page.mouse.click(b.x + b.width * frac, b.y + b.height / 2);
        await page.waitForURL(urlRe);
        if (check) check(new URL(page.url()));
      };
      // The log bucket at 50% of the range: Logs for the service, narrowed to that bucket.
      await open('logs', 0.5, /\/logs\?/, (u) => {
        expect.eq(u.searchParams.get('q'), 'service:checkout', 'log query for the service');
        const from = Date.parse(u.searchParams.get('from')), to = Date.parse(u.searchParams.get('to'));
        expect(to > from && to - from <= 10 * 60e3, `a narrow range: ${u.search}`);
      });
      await page.waitForSelector('.log-msg');
      // The rate lane: traces of the service around that moment.
      await open('rate', 0.99, /\/traces\?/, (u) => expect.eq(u.searchParams.get('service'), 'checkout', 'traces of the service'));
      // The alert lane at the end of the range: the alerts page filtered to the alert.
      await open('alerts', 0.995, /\/alerts\?/, (u) => expect(/alertname=|service=/.test(u.searchParams.get('filter') || ''), `alerts filtered: ${u.search}`));
      // A dot of the trace lane opens its trace.
      await page.goto(base + '/incident?service=payment');
      await page.waitForSelector(`${laneSel('traces')} .uplot canvas`, {timeout: 20_000});
      // Find a dot by scanning the plot: the chart calls back on the nearest point within 12 px.
      const b = await box(page, 'traces');
      let opened = false;
      for (let i = 0; i <= 60 && !opened; i++) {
        for (const fy of [0.1, 0.3, 0.5, 0.7, 0.9]) {
          await page.mouse.click(b.x + (b.width * i) / 60, b.y + b.height * fy);
          if (/\/traces\/[0-9a-f]{32}/.test(page.url())) {
            opened = true;
            break;
          }
        }
      }
      expect(opened, 'a trace dot opens its trace');
      await page.waitForSelector('.vg-page-body[data-page="trace"]');
    },
  },
  {
    name: 'dark theme and a narrow screen',
    contextOptions: {colorScheme: 'dark'},
    async run({page, base, expect, shot}) {
      await page.goto(base + '/incident?service=payment');
      expect.eq(await page.getAttribute('html', 'data-theme'), 'dark', 'dark theme');
      await page.waitForSelector(`${laneSel('traces')} .uplot canvas`, {timeout: 20_000});
      await shot('dark');
      await page.setViewportSize({width: 420, height: 800});
      await page.waitForTimeout(300); // charts resize on the next frame
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(w <= 420, `no horizontal scroll on a narrow screen: ${w}px`);
      await shot('narrow');
      await page.goto(base + '/dashboards/golden-signals?var-service=checkout');
      await page.waitForSelector('.dash-panel .uplot canvas', {timeout: 20_000});
      const w2 = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(w2 <= 420, `dashboard fits a narrow screen: ${w2}px`);
      await shot('dashboard-narrow');
    },
  },
  {
    name: 'linked from Home and the service page',
    async run({page, base, expect}) {
      await page.goto(base + '/');
      await page.click('.svc-table tr[data-service="payment"] a[data-link="incident"]');
      await page.waitForURL(/\/incident\?service=payment/);
      await page.waitForSelector(`${laneSel('rate')} .uplot canvas`, {timeout: 20_000});
      await page.goto(base + '/services/checkout?from=now-30m&to=now');
      await page.click('a[data-link="incident"]');
      await page.waitForURL(/\/incident\?/);
      const u = new URL(page.url());
      expect.eq(u.searchParams.get('service'), 'checkout', 'service carried');
      expect.eq(u.searchParams.get('from'), 'now-30m', 'range carried');
      await page.waitForSelector(`${laneSel('rate')} .uplot canvas`, {timeout: 20_000});
    },
  },
];
