#!/usr/bin/env node
// Vigil's browser test runner (make e2e).
//
// Starts bin/vigil on free loopback ports with a temporary data directory and
// testdata/vigil.yml, seeds it through its real ingest endpoints (seed.mjs, plus every
// testdata/*.seed.mjs), launches Debian's /usr/bin/chromium headless through playwright-core
// and runs every web/e2e/*.test.mjs. A test file exports
//
//   export default [{name, allowFailures?, contextOptions?, async run({page, base, seed, dataDir, expect, shot})}]
//
// dataDir is Vigil's data directory (e.g. to check the files a page saved).
//
// The browser context is 1280x800, en-US, in UTC; contextOptions (Playwright's newContext
// options, e.g. {timezoneId: 'Europe/Berlin'}) override that for one test.
//
// A test fails when run throws, on any console error or uncaught page error, and on any failed
// request (a network failure, or an HTTP status >= 400) — except requests whose URL contains
// one of the test's allowFailures strings (for a test that provokes an error on purpose) and
// requests the page cancelled itself (net::ERR_ABORTED: a newer query replaced an older one).
// Every test leaves a screenshot in web/e2e/artifacts/<file>--<test>.png; shot(name) takes more.
//
// Usage: node run.mjs [filter]   (filter: part of a file or test name)
// Env:   VIGIL_BIN (default <repo>/bin/vigil), CHROMIUM (default /usr/bin/chromium).

import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, createWriteStream} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {seedAll} from './seed.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const VIGIL = process.env.VIGIL_BIN || join(root, 'bin/vigil');
const ARTIFACTS = join(here, 'artifacts');
const TEST_TIMEOUT_MS = 90_000;
const filter = process.argv[2] || '';

if (!existsSync(CHROMIUM)) {
  console.log(`e2e: SKIPPED: ${CHROMIUM} not found; install it with: apt-get install -y chromium`);
  process.exit(0);
}
if (!existsSync(VIGIL)) {
  console.error(`e2e: ${VIGIL} not found; run make build first`);
  process.exit(2);
}
const {chromium} = await import('playwright-core');

/** freePort -> a port the kernel just handed out on 127.0.0.1. */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startVigil() {
  const [http, grpc, otlpHTTP] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  const log = createWriteStream(join(ARTIFACTS, 'vigil.log'));
  const args = [
    '--config', join(here, 'testdata/vigil.yml'),
    '--data-dir', dataDir,
    '--http-listen', `127.0.0.1:${http}`,
    '--otlp-grpc-listen', `127.0.0.1:${grpc}`,
    '--otlp-http-listen', `127.0.0.1:${otlpHTTP}`,
  ];
  const proc = spawn(VIGIL, args, {stdio: ['ignore', 'pipe', 'pipe']});
  proc.stdout.pipe(log);
  proc.stderr.pipe(log);
  let exited = null;
  proc.on('exit', (code, sig) => (exited = {code, sig}));
  const base = `http://127.0.0.1:${http}`;
  // Bounded wait for readiness: 240 x 250 ms = 60 s.
  for (let i = 0; i < 240; i++) {
    if (exited) throw new Error(`vigil exited (${JSON.stringify(exited)}) before it was ready; see ${join(ARTIFACTS, 'vigil.log')}`);
    try {
      const r = await fetch(base + '/readyz');
      if (r.status === 200) {
        return {base, otlp: `http://127.0.0.1:${otlpHTTP}`, proc, dataDir,
          stop: async () => {
            if (!exited) {
              proc.kill('SIGTERM');
              for (let j = 0; j < 100 && !exited; j++) await sleep(100);
              if (!exited) proc.kill('SIGKILL');
            }
            rmSync(dataDir, {recursive: true, force: true});
          }};
      }
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  proc.kill('SIGKILL');
  throw new Error('vigil did not become ready within 60 s');
}

class AssertionError extends Error {}

/** expect(cond, message): the harness's assertions, all bounded. */
function makeExpect() {
  const expect = (cond, message = 'expectation failed') => {
    if (!cond) throw new AssertionError(message);
  };
  expect.eq = (got, want, message = 'values differ') => {
    if (got !== want) throw new AssertionError(`${message}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  /** poll(fn, message, {timeout}): retries fn until it returns a truthy value. */
  expect.poll = async (fn, message = 'condition not met', {timeout = 15_000, interval = 200} = {}) => {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await fn();
        if (last) return last;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new AssertionError(`${message} (after ${timeout} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
      await sleep(interval);
    }
  };
  return expect;
}

function safeName(s) {
  return s.replace(/[^a-z0-9._-]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
}

async function runTest(browser, env, file, test) {
  const context = await browser.newContext({viewport: {width: 1280, height: 800}, timezoneId: 'UTC', locale: 'en-US', ...test.contextOptions});
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  const allowed = (url) => (test.allowFailures || []).some((s) => url.includes(s));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = (msg.location() && msg.location().url) || '';
    // Chromium logs every HTTP error response as a console error; those are judged by the
    // response handler below, which knows the test's allowances.
    if (/^Failed to load resource/.test(msg.text()) && allowed(url)) return;
    if (/^Failed to load resource/.test(msg.text()) && /status of \d+/.test(msg.text())) return;
    problems.push(`console error: ${msg.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught page error: ${err.stack || err.message}`));
  page.on('requestfailed', (req) => {
    const why = (req.failure() && req.failure().errorText) || 'failed';
    if (why.includes('ERR_ABORTED') || allowed(req.url())) return;
    problems.push(`request failed: ${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (resp) => {
    if (resp.status() >= 400 && !allowed(resp.url())) problems.push(`HTTP ${resp.status()}: ${resp.request().method()} ${resp.url()}`);
  });
  const base = safeName(file.replace(/\.test\.mjs$/, '')) + '--' + safeName(test.name);
  let shots = 0;
  const shot = async (name) => {
    await page.screenshot({path: join(ARTIFACTS, `${base}--${safeName(name || String(++shots))}.png`)});
  };
  const started = Date.now();
  let err = null;
  let timer;
  try {
    await Promise.race([
      test.run({page, base: env.base, seed: env.seed, dataDir: env.dataDir, expect: makeExpect(), shot, context}),
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS))),
    ]);
    // Let late requests and console messages of the last step arrive before judging.
    await page.waitForLoadState('networkidle', {timeout: 5_000}).catch(() => {});
  } catch (e) {
    err = e;
  } finally {
    clearTimeout(timer);
  }
  try {
    await page.screenshot({path: join(ARTIFACTS, `${base}.png`)});
  } catch (e) {
    problems.push(`screenshot failed: ${e.message}`);
  }
  await context.close();
  return {err, problems, ms: Date.now() - started};
}

async function main() {
  mkdirSync(ARTIFACTS, {recursive: true});
  const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort();
  const suites = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(here, f)).href);
    const tests = (mod.default || []).filter((t) => !filter || f.includes(filter) || t.name.includes(filter));
    if (tests.length) suites.push({file: f, tests});
  }
  // Drop the old screenshots of the tests about to run (only theirs: a filtered run leaves
  // the others' alone).
  const prefixes = suites.flatMap(({file, tests}) => tests.map((t) => safeName(file.replace(/\.test\.mjs$/, '')) + '--' + safeName(t.name)));
  for (const f of readdirSync(ARTIFACTS)) {
    if (f.endsWith('.png') && prefixes.some((p) => f === p + '.png' || f.startsWith(p + '--'))) rmSync(join(ARTIFACTS, f));
  }
  if (!suites.length) {
    console.log(filter ? `e2e: no tests match "${filter}"` : 'e2e: no *.test.mjs files');
    process.exit(filter ? 2 : 0);
  }

  const vigil = await startVigil();
  let browser;
  let failed = 0, passed = 0;
  try {
    const t0 = Date.now();
    const seed = await seedAll({base: vigil.base, otlp: vigil.otlp, testdata: join(here, 'testdata')});
    console.log(`e2e: vigil at ${vigil.base}, seeded in ${Date.now() - t0} ms`);
    // The flags the contract names; playwright-core adds --headless and a fresh
    // --user-data-dir (a temporary profile) itself, and rejects a --user-data-dir argument.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const env = {base: vigil.base, seed, dataDir: vigil.dataDir};
    for (const {file, tests} of suites) {
      for (const test of tests) {
        const {err, problems, ms} = await runTest(browser, env, file, test);
        if (err || problems.length) {
          failed++;
          console.log(`FAIL ${file} › ${test.name} (${ms} ms)`);
          if (err) console.log('  ' + String(err.stack || err).split('\n').slice(0, 6).join('\n  '));
          for (const p of problems.slice(0, 20)) console.log('  - ' + p);
          if (problems.length > 20) console.log(`  - ... and ${problems.length - 20} more`);
        } else {
          passed++;
          console.log(`ok   ${file} › ${test.name} (${ms} ms)`);
        }
      }
    }
  } finally {
    if (browser) await browser.close();
    await vigil.stop();
  }
  console.log(`e2e: ${passed} passed, ${failed} failed; screenshots in ${ARTIFACTS}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error('e2e:', err.stack || err);
  process.exit(1);
});
