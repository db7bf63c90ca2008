// The shell: every route loads without console errors or failed requests, SPA routing on
// reload, the time-range picker (relative and typed absolute times in the displayed zone),
// the UTC/local switch, keyboard shortcuts, the theme, and a narrow screen.

const ROUTES = ['/', '/explore', '/logs', '/traces', '/services-graph', '/slos', '/alerts', '/services/checkout'];

export default [
  {
    name: 'every page loads',
    async run({page, base, expect, shot}) {
      for (const r of ROUTES) {
        await page.goto(base + r);
        await page.waitForSelector('.vg-page-body, .vg-empty-page');
        await page.waitForLoadState('networkidle');
        const title = await page.title();
        expect(title.endsWith('· Vigil'), `${r}: title ${title}`);
        await shot(r === '/' ? 'home' : r.slice(1).replace(/\//g, '-'));
      }
      // A route that does not exist says so, without a failed request.
      await page.goto(base + '/no/such/page');
      await page.waitForSelector('.vg-empty-page');
      expect((await page.textContent('.vg-empty-page')).includes('Not found'), 'unknown route says Not found');
    },
  },
  {
    name: 'time range picker and zone switch',
    async run({page, base, expect}) {
      await page.goto(base + '/explore?from=now-6h&to=now&tz=utc');
      await page.waitForSelector('.vg-page-body');
      expect((await page.textContent('.vg-range-btn')).includes('Last 6 hours'), 'relative label');
      await page.click('.vg-range-btn');
      await page.fill('.vg-picker input[aria-label="From"]', '2026-01-02 10:00');
      await page.fill('.vg-picker input[aria-label="To"]', '2026-01-02 11:30');
      await page.click('.vg-picker .vg-primary');
      const u = new URL(page.url());
      expect.eq(u.searchParams.get('from'), '2026-01-02T10:00:00.000Z', 'typed From read in UTC');
      expect.eq(u.searchParams.get('to'), '2026-01-02T11:30:00.000Z', 'typed To read in UTC');
      const label = await page.textContent('.vg-range-btn');
      expect(label.includes('UTC') && label.includes('2026-01-02 10:00'), `absolute label names its zone: ${label}`);
      // t then ArrowLeft shifts back by half the width (45 minutes).
      await page.click('body');
      await page.keyboard.press('t');
      await page.keyboard.press('ArrowLeft');
      await expect.poll(() => new URL(page.url()).searchParams.get('from') === '2026-01-02T09:15:00.000Z', 't ← shifts the range back');
      await page.keyboard.press('t');
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => new URL(page.url()).searchParams.get('from') === '2026-01-02T10:00:00.000Z', 't → shifts it forward');
      // Bad input is refused with a message, not applied.
      await page.click('.vg-range-btn');
      await page.fill('.vg-picker input[aria-label="From"]', 'yesterday-ish');
      await page.click('.vg-picker .vg-primary');
      expect((await page.textContent('.vg-picker-msg')).includes('Cannot read'), 'bad time explained');
      await page.keyboard.press('Escape');
      // Local: the browser runs in UTC here, so the zone name is still shown.
      await page.click('.vg-seg button[data-tz="local"]');
      expect.eq(new URL(page.url()).searchParams.get('tz'), 'local', 'tz in the URL');
    },
  },
  {
    name: 'typed times are read in the local zone when it is displayed',
    contextOptions: {timezoneId: 'Europe/Berlin'},
    async run({page, base, expect}) {
      await page.goto(base + '/explore?tz=local');
      await page.waitForSelector('.vg-page-body');
      await page.click('.vg-range-btn');
      expect((await page.textContent('.vg-picker .vg-hint')).match(/GMT\+1|CET/), 'the hint names the local zone');
      await page.fill('.vg-picker input[aria-label="From"]', '2026-01-02 10:00');
      await page.fill('.vg-picker input[aria-label="To"]', '2026-01-02 11:00');
      await page.keyboard.press('Enter');
      expect.eq(new URL(page.url()).searchParams.get('from'), '2026-01-02T09:00:00.000Z', '10:00 in Berlin is 09:00 UTC');
      const label = await page.textContent('.vg-range-btn');
      expect(label.includes('2026-01-02 10:00') && /GMT\+1|CET/.test(label), `label in local time with its zone: ${label}`);
      // Switching to UTC shows the same instant in UTC.
      await page.click('.vg-seg button[data-tz="utc"]');
      await expect.poll(async () => (await page.textContent('.vg-range-btn')).includes('2026-01-02 09:00'), 'same range shown in UTC');
    },
  },
  {
    name: 'auto-refresh runs the query again',
    async run({page, base, expect}) {
      let queries = 0;
      page.on('request', (r) => r.url().includes('/api/v1/query_range') && queries++);
      await page.goto(base + '/explore?refresh=5s&q=' + encodeURIComponent('sum(up)'));
      await page.waitForSelector('.ex-result .uplot canvas');
      expect.eq(await page.inputValue('select[aria-label="Auto-refresh"]'), '5s', 'refresh shown as set');
      await expect.poll(() => queries >= 2, 'a second query within the refresh period', {timeout: 15_000});
      await page.selectOption('select[aria-label="Auto-refresh"]', '');
      expect(!new URL(page.url()).searchParams.has('refresh'), 'refresh off leaves the URL');
    },
  },
  {
    name: 'shortcut list and theme',
    async run({page, base, expect, shot}) {
      await page.emulateMedia({colorScheme: 'dark'});
      await page.goto(base + '/');
      await page.waitForSelector('.vg-page-body');
      expect.eq(await page.getAttribute('html', 'data-theme'), 'dark', 'system theme follows a dark preference');
      await page.emulateMedia({colorScheme: 'light'});
      await expect.poll(async () => (await page.getAttribute('html', 'data-theme')) === 'light', 'system theme follows the change live');
      await page.selectOption('select[aria-label="Theme"]', 'dark');
      expect.eq(await page.getAttribute('html', 'data-theme'), 'dark', 'explicit dark');
      await page.keyboard.press('?');
      await page.waitForSelector('.vg-dialog');
      const text = await page.textContent('.vg-dialog');
      for (const k of ['Ctrl/⌘ + Enter', 't ←', 't →']) expect(text.includes(k), `shortcut list names ${k}`);
      await shot('dark-shortcuts');
      await page.keyboard.press('Escape');
      expect((await page.$('.vg-dialog')) === null, 'Escape closes the list');
    },
  },
  {
    name: 'dark theme',
    contextOptions: {colorScheme: 'dark'},
    async run({page, base, expect, shot}) {
      for (const r of ['/logs?q=level:error', '/explore?q=' + encodeURIComponent('sum by (code) (rate(http_requests_total[5m]))'), '/services/checkout']) {
        await page.goto(base + r);
        await page.waitForSelector('.vg-page-body .uplot');
        await page.waitForLoadState('networkidle');
        expect.eq(await page.getAttribute('html', 'data-theme'), 'dark', 'dark theme');
        await shot('dark-' + r.slice(1).split(/[/?]/)[0]);
      }
    },
  },
  {
    name: 'narrow screen',
    async run({page, base, expect, shot}) {
      await page.setViewportSize({width: 390, height: 844});
      for (const r of ['/', '/logs', '/explore']) {
        await page.goto(base + r);
        await page.waitForSelector('.vg-page-body');
        await page.waitForLoadState('networkidle');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow <= 1, `${r}: page is ${overflow}px wider than a 390px screen`);
        await shot('narrow-' + (r === '/' ? 'home' : r.slice(1)));
      }
    },
  },
];
