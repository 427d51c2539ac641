// Starts a fresh `maillage demo` on a free port and a headless Debian Chromium driven by Playwright.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
export const screenshots = resolve(here, '..', 'screenshots');
export const PASSWORD = 'demo-maillage-2026';
export const accounts = {
  admin: 'admin@maillage.test',
  coordinator: 'coordination@camargue.test',
  secretary: 'secretariat@camargue.test',
  member: 'dr.fabre@camargue.test',
  nurse: 'ide.garcia@camargue.test',
  partner: 'dac@camargue.test',
  otherCoordinator: 'coordination@vidourle.test',
};

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

export async function startMaillage() {
  const binary = process.env.MAILLAGE_BIN ?? join(root, 'target', 'debug', 'maillage');
  const dataDir = mkdtempSync(join(tmpdir(), 'maillage-e2e-'));
  const port = await freePort();
  const child = spawn(binary, ['demo', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAILLAGE_LOG__LEVEL: 'warn' },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const answer = await fetch(`${base}/healthz`);
      if (answer.ok) break;
    } catch { /* not listening yet */ }
    if (child.exitCode !== null) throw new Error(`maillage exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`maillage did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A page that fails the test on any console error or CSP violation. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ locale: 'fr-FR', ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (40[134]|410|422)/.test(message.text())) {
      page.problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => page.problems.push(String(error)));
  return page;
}

export async function shot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

export async function login(page, base, email, password = PASSWORD) {
  await page.goto(`${base}/connexion`);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}

export async function logout(page) {
  await page.getByRole('button', { name: 'Se déconnecter' }).first().click();
}

/** One demo server and one browser for a test file, started before its tests and stopped after. */
export function useMaillage(before, after) {
  const session = { server: null, browser: null };
  before(async () => {
    session.server = await startMaillage();
    session.browser = await launchBrowser();
  });
  after(async () => {
    await session.browser?.close();
    await session.server?.stop();
  });
  return session;
}

/** Fails when the page scrolls sideways (phone layouts must fit 390 px). */
export async function noSidewaysScroll(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`${what} scrolls sideways by ${overflow} px at ${await page.evaluate(() => window.innerWidth)} px`);
}
