import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { writeReports } from '../../src/report/index.js';
import { CONTAIN, NOW, runDirWith } from './fixture.js';

describe('report.html in headless Chromium', () => {
  it('shows every timeline entry and the open credential, fetching nothing', async () => {
    // Given the HTML report of the tj-actions run, written into its run folder
    const runDir = await runDirWith(CONTAIN);
    const [htmlPath] = await writeReports(runDir, ['html'], { now: NOW });
    const fileUrl = pathToFileURL(htmlPath!).href;
    // When it is opened offline in Chromium, with every request routed through the test
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const routed: string[] = [];
      const seen: string[] = [];
      await context.route('**/*', async (route) => {
        routed.push(route.request().url());
        if (route.request().url() === fileUrl) await route.continue();
        else await route.abort();
      });
      const page = await context.newPage();
      page.on('request', (request) => seen.push(request.url()));
      await page.goto(fileUrl, { waitUntil: 'load' });

      // Then every timeline entry is rendered and visible, in its lane
      const entries = page.locator('#timeline .entry');
      expect(await entries.count()).toBe(55);
      for (let i = 0; i < 55; i++) expect(await entries.nth(i).isVisible()).toBe(true);
      expect(await page.locator('#timeline .entry.attacker').count()).toBe(16);
      expect(await page.locator('#timeline .entry.detection').count()).toBe(4);
      expect(await page.locator('#timeline .entry.responder').count()).toBe(35);
      // And lanes are side by side: an attacker entry sits left of a responder entry
      const attackerBox = await page.locator('#timeline .entry.attacker').first().boundingBox();
      const responderBox = await page.locator('#timeline .entry.responder').first().boundingBox();
      expect(attackerBox!.x).toBeLessThan(responderBox!.x);
      // And the open items come first on the page and name the missed credential
      const open = page.locator('#open-items');
      expect(await open.isVisible()).toBe(true);
      expect(await open.innerText()).toContain('OPEN: COVERITY_API_TOKEN');
      const openBox = await open.boundingBox();
      const timelineBox = await page.locator('#timeline').boundingBox();
      expect(openBox!.y).toBeLessThan(timelineBox!.y);
      expect(await page.locator('#credentials tr.is-open').count()).toBe(1);
      expect(await page.locator('#exposure .g-row').count()).toBe(9);
      // And the only request the page made was for the file itself
      // (routing catches http/https/data fetches; the request event catches the rest)
      expect(routed).toEqual([fileUrl]);
      expect(new Set(seen)).toEqual(new Set([fileUrl]));

      // And a screenshot is written to the run folder
      const png = join(runDir, 'report.png');
      await page.screenshot({ path: png, fullPage: true });
      expect((await stat(png)).size).toBeGreaterThan(10_000);
      if (process.env.CICD_IR_KEEP_SCREENSHOT) await copyFile(png, process.env.CICD_IR_KEEP_SCREENSHOT);
    } finally {
      await browser.close();
    }
  });
});
