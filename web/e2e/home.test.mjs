// Home and the service page: every seeded service with its golden signals, SLO badges and
// firing alerts; a service page with graphs, operations, error lines and slow traces.

export default [
  {
    name: 'services overview',
    async run({page, base, seed, expect, shot}) {
      await page.goto(base + '/');
      await page.waitForSelector('.svc-table');
      for (const s of seed.services) {
        await page.waitForSelector(`.svc-table tr[data-service="${s}"]`);
        const cell = (c) => page.textContent(`.svc-table tr[data-service="${s}"] td.${c}`);
        const rate = await cell('c-rate');
        expect(/^[\d.]+[kM]?\/(s|min|h)$/.test(rate), `${s} has a request rate: ${rate}`);
        for (const c of ['c-p50', 'c-p95', 'c-p99']) {
          const v = await cell(c);
          expect(/^[\d.]+(µs|ms|s)$/.test(v), `${s} has a ${c.slice(2)} latency: ${v}`);
        }
      }
      const payErr = await page.textContent('.svc-table tr[data-service="payment"] td.c-errors');
      expect(/^[1-9][\d.]*%$/.test(payErr), `payment shows its error ratio: ${payErr}`);
      const co = await page.textContent('.svc-table tr[data-service="checkout"]');
      expect(co.includes('1 high'), `checkout shows the seeded firing alert: ${co}`);
      expect(co.includes('availability') || co.includes('checkout-availability'), `checkout shows its SLO badge: ${co}`);
      expect((await page.locator('.svc-table tr[data-service="checkout"] svg.vg-spark :is(path, circle)').count()) > 0, 'sparkline drawn');
      await shot('overview');
      // A firing-alert badge opens the Alerts page filtered to the service.
      await page.click('.svc-table tr[data-service="checkout"] a.vg-badge:has-text("1 high")');
      await page.waitForURL(/\/alerts\?/);
      expect.eq(new URL(page.url()).searchParams.get('filter'), 'service="checkout"', 'alerts filtered to the service');
      await expect.poll(async () => (await page.textContent('body')).includes('CheckoutHighLatency'), 'the seeded alert listed');
      await page.goBack();
      await page.waitForSelector('.svc-table tr[data-service="checkout"]');
      await page.click('.svc-table tr[data-service="checkout"] td.name a');
      await page.waitForURL(/\/services\/checkout/);
      await page.waitForSelector('.svc-stat');
    },
  },
  {
    name: 'service page',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/services/payment');
      await page.waitForSelector('.svc-stat');
      await expect.poll(async () => (await page.locator('.vg-card .uplot canvas').count()) >= 3, 'three signal graphs');
      await expect.poll(async () => (await page.textContent('body')).includes('Charge'), 'top operation listed');
      await expect.poll(async () => (await page.locator('a[href^="/traces/"]').count()) > 0, 'slow traces listed');
      await shot('payment');
      await page.goto(base + '/services/checkout');
      await expect.poll(async () => (await page.textContent('body')).includes('payment failed: connection refused'), 'recent error lines');
      await shot('checkout');
    },
  },
];
