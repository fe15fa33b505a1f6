/**
 * The /live page in a real headless browser (Debian's `chromium`): paste a key,
 * pick a segment, and a member ingested through the API and realized by an
 * evaluation appears on the page, with the audience size. Skipped, saying so,
 * when no Chromium binary is installed (`apt-get install -y chromium`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { findChromium, launchChromium, type HeadlessChromium } from './headlessChromium.js';
import { createPersonWithAccount, createSegment } from './support.js';

const chromium = await findChromium();
if (!chromium) console.warn('test/live/livePage.test.ts skipped: no chromium binary found (apt-get install -y chromium)');

describe.skipIf(!chromium)('the /live page in a headless browser', () => {
  let platform: TestPlatform;
  let browser: HeadlessChromium;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform({ worker: true }), launchChromium(chromium!)]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('shows a member entering a segment, with their fields and the audience size', async () => {
    const sandbox = uniqueName('page-');
    const segmentId = await createSegment(platform, sandbox, 'VPs of Engineering');
    const key = await platform.keyFor(sandbox, 'viewer');
    const page = await browser.open(platform.gatewayUrl.replace(/\/graphql$/, '/live'));

    await page.evaluate(`(() => {
      document.getElementById('apiKey').value = ${JSON.stringify(key)};
      document.getElementById('connect').click();
    })()`);
    await page.waitFor(`() => [...document.querySelectorAll('#segment option')].some((o) => o.value === ${JSON.stringify(segmentId)})`);
    await page.evaluate(`(() => {
      document.getElementById('segment').value = ${JSON.stringify(segmentId)};
      document.getElementById('watch').click();
    })()`);
    // The size arrives once the page's subscriptions are running.
    expect(await page.waitFor<string>(`() => document.getElementById('size').textContent === '0' && '0'`)).toBe('0');

    const { personId } = await createPersonWithAccount(
      platform,
      sandbox,
      { firstName: 'Margaret', workEmail: 'margaret@apollo.example', jobTitle: 'VP Software Engineering' },
      { name: 'Apollo Guidance', domain: 'apollo.example', industry: 'Aerospace' },
    );
    const run = await platform.query('mutation ($ids: [ID!]) { evaluateSegments(ids: $ids) { id } }', { ids: [segmentId] }, { sandbox });
    expect(run.errors).toBeUndefined();

    const row = await page.waitFor<string[]>(
      `() => { const row = document.querySelector('#events tr[data-member-id=${JSON.stringify(personId)}]'); return row && [...row.cells].map((c) => c.textContent); }`,
    );
    expect(row[0]).toBe('entered');
    expect(row.slice(2, 5)).toEqual(['Margaret', 'margaret@apollo.example', 'VP Software Engineering']);
    expect(await page.waitFor<string>(`() => document.getElementById('size').textContent === '1' && '1'`)).toBe('1');
  });
});
