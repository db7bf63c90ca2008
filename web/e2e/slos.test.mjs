// SLOs: the list (sorted by budget remaining, as /api/v1/slos reports it) and an SLO page
// leading with objective, SLI and budget, then its charts and burn-rate table.

export default [
  {
    name: 'the SLO list loads sorted by budget remaining',
    async run({page, base, expect}) {
      const api = (await (await fetch(base + '/api/v1/slos')).json()).data;
      await page.goto(base + '/slos');
      await page.waitForSelector('.slo-table tbody tr');
      const names = await page.$$eval('.slo-table tbody tr td:first-child a', (a) => a.map((x) => x.textContent));
      expect.eq(names.length, api.length, 'one row per SLO');
      for (const s of ['checkout-availability', 'payment.availability', 'payment.latency']) expect(names.includes(s), `${s} listed: ${names}`);
      // Least budget first; SLOs without data last.
      const rank = (n) => {
        const s = api.find((x) => x.name === n);
        return s.budget_remaining == null ? Infinity : s.budget_remaining;
      };
      for (let i = 1; i < names.length; i++) expect(rank(names[i - 1]) <= rank(names[i]), `sorted: ${names.join(', ')}`);
      const head = await page.textContent('.slo-table thead');
      expect(head.includes('burn 1h') && head.includes('Objective') && head.includes('Budget remaining'), `columns: ${head}`);
    },
  },
  {
    name: 'an SLO page leads with objective, SLI and budget',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/slos');
      await page.click('.slo-table a:has-text("checkout-availability")');
      await page.waitForSelector('.slo-bigs');
      const lead = await page.textContent('.slo-bigs');
      expect(lead.includes('Objective') && lead.includes('99.9%'), `objective: ${lead}`);
      expect(lead.includes('Current SLI') && lead.includes('Budget remaining'), 'SLI and budget');
      const rows = await page.$$eval('.slo-page table tbody tr', (r) => r.map((x) => x.textContent));
      expect(rows.some((r) => r.startsWith('1h')), `burn-rate table has 1h: ${rows.join(' | ')}`);
      expect(rows.some((r) => r.includes('30d (SLO window)')), 'the SLO window row');
      await page.waitForSelector('.slo-chart canvas');
      expect((await page.$$('.slo-chart canvas')).length >= 1, 'a chart is drawn');
      const zone = await page.textContent('.slo-page');
      expect(zone.includes('UTC'), 'times name their zone');
      // Dark theme: the charts are rebuilt with the theme's colours.
      await page.selectOption('select[aria-label="Theme"]', 'dark');
      await page.waitForSelector('html[data-theme="dark"]');
      await page.waitForSelector('.slo-chart canvas');
      await shot('dark');
    },
  },
];
