// Dashboards: the list, a seeded YAML dashboard with its variable in the URL, the built-in
// Golden signals for a seeded service, and a dashboard built and saved in the UI that lands as
// a file in the dashboards folder and reloads as saved.

import {readFileSync, existsSync} from 'node:fs';
import {join} from 'node:path';

const canvases = (page) => page.locator('.dash-panel .uplot canvas').count();

export default [
  {
    name: 'variable substitution and sources (in the page)',
    async run({page, base, expect}) {
      await page.goto(base + '/dashboards');
      await page.waitForSelector('.dash-list');
      const got = await page.evaluate(async () => {
        const m = await import('/lib/dash-model.js');
        const vals = {service: 'pay"ment', service_name: 'x', ...m.intervals({start: 0, end: 3600e3}, 30)};
        return {
          sub: m.substitute('rate(a{s="$service", n="$service_name", b="${service}x"}[$__rate_interval]) $__range $__interval $unknown', vals),
          src1: m.variableSource('label_values(job)'),
          src2: m.variableSource(' label_values( up{job=~"a,b"} , instance ) '),
          src3: m.variableSource('query_result(up)'),
          label: m.seriesLabel({__name__: 'up', quantile: 'p99'}, 't'),
          none: m.seriesLabel({}, 'title'),
        };
      });
      expect.eq(got.sub, 'rate(a{s="pay"ment", n="x", b="pay"mentx"}[1m]) 1h 30s $unknown', 'substitution');
      expect.eq(JSON.stringify(got.src1), '{"match":"","label":"job"}', 'label_values(label)');
      expect.eq(JSON.stringify(got.src2), '{"match":"up{job=~\\"a,b\\"}","label":"instance"}', 'label_values(series, label)');
      expect.eq(got.src3, null, 'other queries are not a source');
      expect.eq(got.label, 'p99', 'one distinguishing label names the series');
      expect.eq(got.none, 'title', 'no labels: the panel title');
    },
  },
  {
    name: 'list and a seeded dashboard',
    async run({page, base, seed, expect, shot}) {
      await page.goto(base + '/dashboards');
      await page.waitForSelector('.dash-list tr[data-dashboard="golden-signals"]');
      await page.waitForSelector(`.dash-list tr[data-dashboard="${seed.dashboard.name}"]`);
      const row = await page.textContent(`.dash-list tr[data-dashboard="${seed.dashboard.name}"]`);
      expect(row.includes(seed.dashboard.title) && row.includes('checkout-overview.yaml'), `seeded YAML file listed: ${row}`);
      await shot('list');
      await page.click(`.dash-list tr[data-dashboard="${seed.dashboard.name}"] a`);
      await page.waitForURL(/\/dashboards\/checkout-overview/);
      await expect.poll(async () => (await page.locator('.dash-panel').count()) === seed.dashboard.panels, 'every panel drawn');
      await expect.poll(async () => (await canvases(page)) >= 2, 'graph and log volume drawn');
      await expect.poll(async () => /\d/.test(await page.textContent('.dash-panel[data-type="stat"] .dash-stat-v')), 'stat shows a number');
      await expect.poll(async () => (await page.locator('.dash-panel[data-type="table"] tbody tr').count()) === 2, 'table has a row per code');
      await expect.poll(async () => (await page.textContent('.dash-panel[data-panel="3"]')).includes('payment failed'), 'error lines of checkout');
      // The variable lives in the URL: switching it reloads the panels for frontend.
      await page.selectOption('select[data-var="job"]', 'frontend');
      await page.waitForURL(/var-job=frontend/);
      await expect.poll(async () => (await page.locator('.dash-panel[data-type="table"] tbody tr').count()) === 1, 'frontend has one code');
      expect(!/\bnull\b|undefined/.test(await page.textContent('.vg-page-body')), 'no stray null or undefined on the page');
      await shot('frontend');
      await page.reload();
      await page.waitForSelector('select[data-var="job"]');
      expect.eq(await page.inputValue('select[data-var="job"]'), 'frontend', 'variable restored from the URL');
    },
  },
  {
    name: 'golden signals for a seeded service',
    async run({page, base, expect, shot}) {
      await page.goto(base + '/dashboards/golden-signals?var-service=payment');
      await page.waitForSelector('select[data-var="service"]');
      expect.eq(await page.inputValue('select[data-var="service"]'), 'payment', 'service from the URL');
      const options = await page.locator('select[data-var="service"] option').allTextContents();
      for (const s of ['frontend', 'checkout', 'payment']) expect(options.includes(s), `${s} offered: ${options}`);
      // Four graphs and the log volume.
      await expect.poll(async () => (await canvases(page)) >= 5, 'every graph drawn', {timeout: 20_000});
      const stats = await page.locator('.dash-panel[data-type="stat"] .dash-stat-v').allTextContents();
      expect(stats.length === 4 && stats.every((s) => /\d/.test(s)), `four stats with values: ${stats}`);
      const body = await page.textContent('.dash-grid');
      expect(!body.includes('Error:') && !body.includes('No data'), 'no panel failed or empty');
      expect((await page.locator('.dash-panel[data-type="graph"]:has-text("Latency") .u-legend').textContent()).includes('p99'), 'latency has p99');
      expect((await page.locator('button[data-action="delete"]').count()) === 0, 'the built-in cannot be deleted');
      await shot('payment');
    },
  },
  {
    name: 'save from the UI',
    async run({page, base, dataDir, expect, shot}) {
      const file = join(dataDir, 'dashboards', 'e2e-saved.json');
      await page.goto(base + '/dashboards');
      await page.click('a[data-action="new"]');
      await page.waitForSelector('.dash-title-in');
      await page.fill('.dash-title-in', 'Saved from the browser');
      await page.fill('.dash-name-in', 'e2e-saved');
      const first = page.locator('.dash-panel[data-panel="0"]');
      await first.locator('input[data-field="title"]').fill('Checkout requests');
      await first.locator('textarea[data-field="query"]').fill('sum(rate(http_requests_total{job="checkout"}[5m]))');
      await first.locator('textarea[data-field="query"]').dispatchEvent('change');
      await expect.poll(async () => (await canvases(page)) >= 1, 'edited panel redrawn');
      await page.click('button[data-action="add"]');
      const second = page.locator('.dash-panel[data-panel="1"]');
      await second.waitFor();
      await second.locator('select[data-field="type"]').selectOption('logs');
      await page.locator('.dash-panel[data-panel="1"] textarea[data-field="query"]').fill('service:checkout');
      await page.locator('.dash-panel[data-panel="1"] textarea[data-field="query"]').dispatchEvent('change');
      await page.locator('.dash-panel[data-panel="1"] input[data-field="title"]').fill('Checkout logs');
      await page.locator('.dash-panel[data-panel="1"] input[data-field="title"]').dispatchEvent('change');
      await shot('editing');
      await page.click('button[data-action="save"]');
      await page.waitForURL(/\/dashboards\/e2e-saved$/);
      await expect.poll(() => existsSync(file), `${file} written`);
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      expect.eq(saved.title, 'Saved from the browser', 'title saved');
      expect.eq(saved.panels.length, 2, 'two panels saved');
      expect.eq(saved.panels[0].query, 'sum(rate(http_requests_total{job="checkout"}[5m]))', 'query saved');
      expect.eq(saved.panels[1].type, 'logs', 'type saved');
      expect.eq(saved.panels[1].title, 'Checkout logs', 'panel title saved');
      // Reloaded from the file, not from the page's memory.
      await page.reload();
      await page.waitForSelector('.dash-panel[data-panel="1"]');
      expect.eq((await page.textContent('.svc-head h1')).trim(), 'Saved from the browser', 'title reloaded');
      expect((await page.textContent('.dash-panel[data-panel="1"] h3')).includes('Checkout logs'), 'panel reloaded');
      await expect.poll(async () => (await canvases(page)) >= 2, 'both panels drawn after reload');
      // Editing again and saving changes the file in place.
      await page.click('button[data-action="edit"]');
      await page.locator('.dash-panel[data-panel="0"] select[data-field="type"]').selectOption('stat');
      await page.click('button[data-action="save"]');
      await expect.poll(() => JSON.parse(readFileSync(file, 'utf8')).panels[0].type === 'stat', 'type change saved');
      await page.waitForSelector('.dash-panel[data-panel="0"] .dash-stat-v');
      await shot('saved');
      // Listed, then deleted from the UI.
      page.once('dialog', (d) => d.accept());
      await page.click('button[data-action="delete"]');
      await page.waitForURL(/\/dashboards$/);
      await expect.poll(() => !existsSync(file), 'file removed');
    },
  },
];
