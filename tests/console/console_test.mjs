// Browser tests of the web console: Debian's Chromium driven by playwright-core against a real
// `tmirror server`. Everything is done through the console's pages, as a user would; only the
// agent (counters, registration) and the 1,000 sessions of the paging test come from Node.
//   TMIRROR_BINARY=<build>/tmirror SCREENSHOT_DIR=<dir> node --test console_test.mjs
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const { chromium } = await import('playwright-core').catch((error) => {
  throw new Error('playwright-core is not installed: run scripts/install-deps.sh ' +
                  `(npm ci in tests/console). ${error.message}`);
});

import { agentPost, apiCall, startServer } from './server.mjs';

const binary = process.env.TMIRROR_BINARY;
const screenshots = process.env.SCREENSHOT_DIR || 'console-screenshots';
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
// This machine's network is closed: no background requests, no sandbox (root), no GPU.
const chromiumFlags = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

let server;
let browser;
let page;
const requests = [];
const pageErrors = [];
const ids = {};

async function shot(name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

async function go(hash) {
  await page.goto(`${server.url}/console/${hash}`);
}

// Selects by visible option text fragment (IDs are unknown in advance).
async function selectContaining(param, text) {
  const select = page.locator(`[data-param="${param}"]`);
  const value = await select.locator('option', { hasText: text }).first().getAttribute('value');
  assert.ok(value, `no option containing ${text} in ${param}`);
  await select.selectOption(value);
  return value;
}

const fieldError = (param) => page.locator(`[data-field="${param}"] .field-error`);

describe('tmirror web console', { concurrency: false }, () => {
  before(async () => {
    assert.ok(binary, 'TMIRROR_BINARY must name the tmirror binary');
    mkdirSync(screenshots, { recursive: true });
    server = await startServer(binary, ['--sessions-per-interface', '1024',
                                          '--history-flush-seconds', '0.5']);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('dialog', (dialog) => dialog.accept());
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // A Content-Security-Policy refusal (an inline style, a foreign script) is a console error.
    page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) pageErrors.push(m.text()); });
    // An agent registers its host: the instance and its interface the console will show.
    const registered = await agentPost(server, 'register', {
      HostKey: 'console-test-host', Hostname: 'web-1',
      Interfaces: [{ Name: 'eth0', MacAddress: '02:00:00:00:00:01', PrivateIpAddress: '10.0.0.11',
                     Mtu: 1500 }] });
    ids.instance = registered.InstanceId;
    ids.source = registered.NetworkInterfaces[0].NetworkInterfaceId;
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test('the server serves the console: redirect, modules with their types, 404', async () => {
    const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/console/');
    const index = await fetch(`${server.url}/console/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    const module = await fetch(`${server.url}/console/js/main.js`);
    assert.match(module.headers.get('content-type'), /^text\/javascript/);
    const etag = module.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${server.url}/console/js/main.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const icon = await fetch(`${server.url}/console/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type'), /^image\/svg\+xml/);
    assert.equal((await fetch(`${server.url}/console/js/nothing.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/console/js//main.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/console/%2E%2E%2Fmetrics`)).status, 404);
  });

  test('sign in: a wrong secret is refused at its field, the right one opens the console', async () => {
    await go('');
    await page.fill('[data-param="AccessKeyId"]', server.key.AccessKeyId);
    await page.fill('[data-param="SecretAccessKey"]', 'not-the-secret');
    await page.click('button[type=submit]');
    await assert.doesNotReject(fieldError('SecretAccessKey').waitFor({ state: 'visible' }));
    assert.match(await fieldError('SecretAccessKey').textContent(), /AuthFailure/);
    assert.equal(await page.inputValue('[data-param="AccessKeyId"]'), server.key.AccessKeyId);
    await shot('01-sign-in-refused');
    await page.fill('[data-param="SecretAccessKey"]', server.key.SecretAccessKey);
    await page.click('button[type=submit]');
    await page.locator('#who', { hasText: server.key.AccessKeyId }).waitFor();
    await page.locator('h1', { hasText: 'Mirror sessions' }).waitFor();
    const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length]);
    assert.deepEqual(stored, [1, 0], 'the key lives in sessionStorage only');
  });

  test('instances: the registered host, and its Networking tab lists ID, MAC and address', async () => {
    await go('#/instances');
    const listed = page.locator('#instances-table tbody tr', { hasText: ids.instance });
    await listed.waitFor();
    assert.match(await listed.textContent(), /web-1/);
    await shot('02-instances');
    await listed.locator('a', { hasText: ids.instance }).click();
    await page.locator('.tabs a', { hasText: 'Networking' }).click();
    const row = page.locator('#instance-interfaces tbody tr', { hasText: ids.source });
    await row.waitFor();
    assert.match(await row.textContent(), /02:00:00:00:00:01/);
    assert.match(await row.textContent(), /10\.0\.0\.11/);
    await shot('02-instance-networking');
    await page.locator('.tabs a', { hasText: 'Details' }).click();
    await page.locator('[data-detail="Host name"]', { hasText: 'web-1' }).waitFor();
  });

  test('create the collector interface (CreateNetworkInterface) in the console', async () => {
    await go('#/interfaces/new');
    await page.fill('[data-param="Name"]', 'collector');
    await page.fill('[data-param="PrivateIpAddress"]', '198.51.100.999');
    await page.click('button[type=submit]');
    await fieldError('PrivateIpAddress').waitFor({ state: 'visible' });
    assert.equal(await page.inputValue('[data-param="Name"]'), 'collector');
    await page.fill('[data-param="PrivateIpAddress"]', '198.51.100.20');
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/interfaces\/eni-/);
    ids.collector = /eni-[0-9a-f]+/.exec(page.url())[0];
    await page.locator('[data-detail="Private IPv4 address"]', { hasText: '198.51.100.20' }).waitFor();
    await go('#/interfaces');
    await page.locator('#interfaces-table tbody tr', { hasText: ids.collector }).waitFor();
    await shot('03-network-interfaces');
  });

  test('create a mirror target on that interface; before it, the empty list offers Create', async () => {
    await go('#/targets');
    const offer = page.locator('#targets-table td.empty button', { hasText: 'Create mirror target' });
    await offer.waitFor();
    await shot('04-mirror-targets-empty');
    await offer.click();
    await page.waitForURL(/#\/targets\/new$/);
    // The picker names each interface by host, interface, addresses and role.
    const option = page.locator('[data-param="NetworkInterfaceId"] option', { hasText: ids.source });
    assert.equal(await option.textContent(), `web-1 · eth0 · 10.0.0.11 · source · ${ids.source}`);
    assert.match(await page.locator('[data-param="NetworkInterfaceId"] option',
                                    { hasText: ids.collector }).textContent(), /198\.51\.100\.20 · appliance/);
    await page.fill('[data-param="Name"]', 'collector-target');
    await page.fill('[data-param="Description"]', 'the lab collector');
    await selectContaining('NetworkInterfaceId', ids.collector);
    await page.locator('.add-tag').click();
    await page.locator('.tag-key').last().fill('team');
    await page.locator('.tag-value').last().fill('netops');
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/targets\/tmt-/);
    ids.target = /tmt-[0-9a-f]+/.exec(page.url())[0];
    const xml = await apiCall(server, 'DescribeTrafficMirrorTargets',
                              { 'TrafficMirrorTargetId.1': ids.target });
    assert.match(xml, new RegExp(`<networkInterfaceId>${ids.collector}</networkInterfaceId>`));
    assert.match(xml, /<key>Name<\/key><value>collector-target<\/value>/);
    assert.match(xml, /<key>team<\/key><value>netops<\/value>/);
    await go('#/targets');
    await page.locator('#targets-table tbody tr', { hasText: 'collector-target' }).waitFor();
    await shot('04-mirror-targets');
  });

  test('create a filter with an inbound and an outbound rule; rules sort by number', async () => {
    await go('#/filters/new');
    await page.fill('[data-param="Name"]', 'web-not-ssh');
    await page.check('[data-param="AmazonDns"]');
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/filters\/tmf-/);
    ids.filter = /tmf-[0-9a-f]+/.exec(page.url())[0];
    assert.equal(await page.isChecked('#amazon-dns'), true);

    const inbound = page.locator('section.rules[data-direction="ingress"]');
    const outbound = page.locator('section.rules[data-direction="egress"]');
    // A port range without TCP/UDP: the API's refusal lands at Protocol, the values stay.
    await inbound.locator('[data-param="RuleNumber"]').fill('200');
    await inbound.locator('[data-param="DestinationPortRange.FromPort"]').fill('80');
    await inbound.locator('[data-param="DestinationPortRange.ToPort"]').fill('80');
    await inbound.locator('button[type=submit]').click();
    await inbound.locator('[data-field="Protocol"] .field-error').waitFor({ state: 'visible' });
    assert.equal(await inbound.locator('[data-param="DestinationPortRange.FromPort"]').inputValue(), '80');
    await inbound.locator('[data-param="Protocol"]').selectOption('6');
    await inbound.locator('[data-param="Description"]').fill('web');
    await inbound.locator('button[type=submit]').click();
    await inbound.locator('tbody tr', { hasText: 'web' }).waitFor();
    // A lower-numbered reject rule is listed first.
    await inbound.locator('[data-param="RuleNumber"]').fill('100');
    await inbound.locator('[data-param="RuleAction"]').selectOption('reject');
    await inbound.locator('[data-param="Protocol"]').selectOption('6');
    await inbound.locator('[data-param="DestinationPortRange.FromPort"]').fill('22');
    await inbound.locator('[data-param="DestinationPortRange.ToPort"]').fill('22');
    await inbound.locator('[data-param="Description"]').fill('no ssh');
    await inbound.locator('button[type=submit]').click();
    await inbound.locator('tbody tr', { hasText: 'no ssh' }).waitFor();
    const numbers = await inbound.locator('tbody tr td:first-child').allTextContents();
    assert.deepEqual(numbers, ['100', '200']);

    await outbound.locator('[data-param="RuleNumber"]').fill('100');
    await outbound.locator('[data-param="Protocol"]').selectOption('6');
    await outbound.locator('[data-param="SourcePortRange.FromPort"]').fill('80');
    await outbound.locator('[data-param="SourcePortRange.ToPort"]').fill('80');
    await outbound.locator('[data-param="Description"]').fill('web replies');
    await outbound.locator('button[type=submit]').click();
    await outbound.locator('tbody tr', { hasText: 'web replies' }).waitFor();

    // Edit a rule (ModifyTrafficMirrorFilterRule): a duplicate number is refused at its field.
    await inbound.locator('tbody tr', { hasText: 'no ssh' }).locator('.edit-rule').click();
    await inbound.locator('[data-param="RuleNumber"]').fill('200');
    await inbound.locator('button[type=submit]').click();
    await inbound.locator('[data-field="RuleNumber"] .field-error').waitFor({ state: 'visible' });
    await inbound.locator('[data-param="RuleNumber"]').fill('150');
    await inbound.locator('button[type=submit]').click();
    await inbound.locator('tbody tr', { hasText: 'no ssh' }).locator('td', { hasText: '150' }).waitFor();

    const xml = await apiCall(server, 'DescribeTrafficMirrorFilters',
                              { 'TrafficMirrorFilterId.1': ids.filter });
    assert.match(xml, /<ingressFilterRuleSet><item>.*<ruleNumber>150<\/ruleNumber>.*<ruleNumber>200<\/ruleNumber>/s);
    assert.match(xml, /<egressFilterRuleSet><item>.*<sourcePortRange><fromPort>80<\/fromPort>/s);
    assert.match(xml, /<networkServiceSet><item>amazon-dns<\/item><\/networkServiceSet>/);
    await shot('05-mirror-filter-rules');
    await go('#/filters');
    await page.locator('#filters-table tbody tr', { hasText: 'web-not-ssh' }).waitFor();
    await shot('06-mirror-filters');
  });

  test('create a session: 40000 is refused next to its field, typed values kept', async () => {
    await go('#/sessions/new');
    await page.fill('[data-param="Name"]', 'web-1-to-collector');
    await page.fill('[data-param="Description"]', 'web traffic of web-1');
    await selectContaining('NetworkInterfaceId', ids.source);
    await selectContaining('TrafficMirrorTargetId', ids.target);
    await selectContaining('TrafficMirrorFilterId', ids.filter);
    await page.fill('[data-param="SessionNumber"]', '40000');
    await page.fill('[data-param="PacketLength"]', '128');
    await page.click('button[type=submit]');
    const error = fieldError('SessionNumber');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /SessionNumber/);
    assert.match(await error.textContent(), /InvalidParameterValue/);
    assert.equal(await page.locator('.form-error:visible').count(), 0, 'not a form-wide error');
    for (const [param, value] of [['Name', 'web-1-to-collector'], ['SessionNumber', '40000'],
                                  ['PacketLength', '128'], ['NetworkInterfaceId', ids.source],
                                  ['TrafficMirrorTargetId', ids.target],
                                  ['TrafficMirrorFilterId', ids.filter]]) {
      assert.equal(await page.inputValue(`[data-param="${param}"]`), value, `${param} kept`);
    }
    await shot('07-session-number-40000');
    await page.fill('[data-param="SessionNumber"]', '1');
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/sessions$/);
    const row = page.locator('#sessions-table tbody tr', { hasText: 'web-1-to-collector' });
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(ids.source));
    assert.match(await row.textContent(), /128/);
    ids.session = /tms-[0-9a-f]+/.exec(await row.textContent())[0];
    await shot('08-mirror-sessions');
  });

  test('the session page leads with state and charts; Modify (ModifyTrafficMirrorSession) and tags', async () => {
    await go(`#/sessions/${ids.session}`);
    await page.locator('#session-state').filter({ hasNotText: 'checking' }).waitFor();
    const charts = await page.locator('.monitoring .charts').boundingBox();
    assert.ok(charts.y < 900, `the charts start in the first screen (at ${charts.y} px)`);
    assert.equal(await page.locator('[data-param="SessionNumber"]').count(), 0, 'no edit form');
    await page.locator('a.modify').click();
    await page.waitForURL(/\/modify$/);
    await page.fill('[data-param="PacketLength"]', '');
    await page.fill('[data-param="VirtualNetworkId"]', '4242');
    await page.click('form.api-form button[type=submit]');
    await page.waitForURL(new RegExp(`#/sessions/${ids.session}$`));
    await page.locator('.notice', { hasText: 'Saved the changes' }).waitFor();
    await page.locator('[data-detail="VNI"]', { hasText: '4242' }).waitFor();
    await page.locator('.add-tag').click();
    await page.locator('.tag-key').last().fill('env');
    await page.locator('.tag-value').last().fill('lab');
    await page.click('.save-tags');
    await page.getByText('Tags saved.', { exact: true }).waitFor();
    const xml = await apiCall(server, 'DescribeTrafficMirrorSessions',
                              { 'TrafficMirrorSessionId.1': ids.session });
    assert.match(xml, /<virtualNetworkId>4242<\/virtualNetworkId>/);
    assert.doesNotMatch(xml, /<packetLength>/);
    assert.match(xml, /<key>env<\/key><value>lab<\/value>/);
  });

  test('charts follow the counters an agent pushes', async () => {
    await go(`#/sessions/${ids.session}`);
    const chart = page.locator('.monitoring .chart[data-title="Bytes per second"]');
    await page.locator('.period-picker [data-range="live"]').click();
    await page.locator('.counter-status', { hasText: 'no counters yet' }).waitFor();
    assert.equal(await page.locator('[data-counter="NetworkMirrorIn"] .counter-value').textContent(), '–');
    // Simulate the agent: cumulative counters growing ~100 kB/s mirrored in, 1 kB/s skipped out.
    let bytes = 0;
    let skipped = 0;
    const push = async () => {
      bytes += 50000;
      skipped += 500;
      await agentPost(server, 'counters', {
        InstanceId: ids.instance,
        // As the agent sends them: a session's item also names its source interface.
        Sessions: [{ TrafficMirrorSessionId: ids.session, NetworkInterfaceId: ids.source,
                     NetworkMirrorIn: bytes,
                     NetworkPacketsMirrorIn: bytes / 500, NetworkSkipMirrorOut: skipped,
                     NetworkPacketsSkipMirrorOut: skipped / 500 }],
        Interfaces: [{ NetworkInterfaceId: ids.source, NetworkMirrorIn: bytes,
                       NetworkPacketsMirrorIn: bytes / 500 }],
        Problems: [] });
    };
    const pusher = setInterval(() => { push().catch(() => {}); }, 500);
    try {
      await page.waitForFunction(() => {
        const c = document.querySelector('.monitoring .chart[data-title="Bytes per second"]');
        const latest = c && c.dataset.latest ? JSON.parse(c.dataset.latest) : {};
        return Number(c?.dataset.points) >= 3 && latest.NetworkMirrorIn > 0 &&
               latest.NetworkSkipMirrorOut > 0;
      }, null, { timeout: 20000 });
      const firstTotal = Number(await page.locator('[data-counter="NetworkMirrorIn"] .counter-value').textContent());
      assert.ok(firstTotal > 0);
      const pointsBefore = Number(await chart.getAttribute('data-points'));
      await page.waitForTimeout(2500);
      const pointsAfter = Number(await chart.getAttribute('data-points'));
      const laterTotal = Number(await page.locator('[data-counter="NetworkMirrorIn"] .counter-value').textContent());
      assert.ok(pointsAfter > pointsBefore, `the chart moves (${pointsBefore} -> ${pointsAfter})`);
      assert.ok(laterTotal > firstTotal, 'the totals follow the pushed counters');
      const latest = JSON.parse(await chart.getAttribute('data-latest'));
      // ~100 kB/s mirrored (50 kB per 0.5 s push), measured over 1 s polls.
      assert.ok(latest.NetworkMirrorIn > 20000 && latest.NetworkMirrorIn < 400000,
                `mirrored rate ${latest.NetworkMirrorIn}`);
      assert.ok(!(latest.NetworkMirrorOut > 0), `nothing mirrored out (${latest.NetworkMirrorOut})`);
      await shot('09-session-live-charts');
      await go(`#/interfaces/${ids.source}`);
      await page.waitForFunction(() => {
        const c = document.querySelector('.monitoring .chart[data-title="Packets per second"]');
        return c && c.dataset.latest && JSON.parse(c.dataset.latest).NetworkPacketsMirrorIn > 0;
      }, null, { timeout: 20000 });
      await shot('10-interface-live-charts');
    } finally {
      clearInterval(pusher);
    }
  });

  test('history: the charts read the server\'s metric history, and still show it after a reload', async () => {
    await go(`#/sessions/${ids.session}`);
    await page.locator('.period-picker [data-range="1h"]').click();
    const withHistory = () => page.waitForFunction(() => {
      const c = document.querySelector('.monitoring .chart[data-title="Bytes per second"]');
      const latest = c && c.dataset.latest ? JSON.parse(c.dataset.latest) : {};
      return c?.dataset.mode === 'history' && Number(c.dataset.points) >= 1 &&
        latest.NetworkMirrorIn > 0;
    }, null, { timeout: 20000 });
    await withHistory();
    await page.reload();
    await withHistory();
    assert.equal(await page.locator('.monitoring').getAttribute('data-range'), '1h', 'the period is kept');
    assert.equal(await page.locator('.period-picker [data-range="1h"]').getAttribute('aria-pressed'), 'true');
    // Axis and read-out text: clock times, units spelled out.
    assert.match(await page.locator('.chart[data-title="Bytes per second"] h3').textContent(), /\(bytes\/s\)/);
    assert.match(await page.locator('.chart[data-title="Bytes per second"] .legend-value').first().textContent(),
                 /^\d+(\.\d+)?( [kMGT])? bytes\/s$/);
    assert.match(await page.locator('.chart[data-title="Bytes per second"] .readout-time').textContent(),
                 /^latest [A-Z][a-z]{2} \d+ \d\d:\d\d$/);
    // The keyboard reads the chart too.
    await page.locator('.chart[data-title="Bytes per second"] canvas').focus();
    await page.keyboard.press('End');
    assert.match(await page.locator('.chart[data-title="Bytes per second"] .readout-time').textContent(), /^at /);
    await shot('09-session-history-charts');
    for (const range of ['3h', '12h', '1d', '1w']) {
      await page.locator(`.period-picker [data-range="${range}"]`).click();
      await page.waitForFunction((r) => document.querySelector('.monitoring')?.dataset.range === r &&
        document.querySelector('.counter-status')?.textContent.startsWith(`The last ${r}`), range);
    }
    await shot('09-session-history-1w');
    await page.locator('.period-picker [data-range="1h"]').click();
  });

  test('legend colours come from the stylesheet: computed, distinct, painted, no inline style', async () => {
    await go(`#/sessions/${ids.session}`);
    await page.waitForFunction(() => Number(document.querySelector(
      '.monitoring .chart[data-title="Bytes per second"]')?.dataset.points) >= 1);
    const charts = await page.evaluate(() => [...document.querySelectorAll('.monitoring .chart')].map((c) => {
      const colours = [...c.querySelectorAll('.swatch')].map((s) => getComputedStyle(s).backgroundColor);
      // Pixels of the first series' colour on the canvas (its line or its dot).
      const canvas = c.querySelector('canvas');
      const [r, g, b] = colours[0].match(/\d+/g).map(Number);
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 &&
            Math.abs(data[i + 2] - b) < 24 && data[i + 3] > 200) painted += 1;
      }
      return { title: c.dataset.title, colours, painted };
    }));
    assert.equal(charts.length, 2);
    for (const chart of charts) {
      assert.equal(chart.colours.length, 5, `${chart.title}: four agent series and the collector's`);
      for (const colour of chart.colours) {
        assert.doesNotMatch(colour, /^rgba\(0, 0, 0, 0\)$|transparent/, `${chart.title}: ${colour}`);
      }
      assert.equal(new Set(chart.colours).size, chart.colours.length, `${chart.title}: distinct colours`);
    }
    assert.ok(charts.find((c) => c.title === 'Bytes per second').painted > 0,
              'the canvas draws the series in its legend colour');
    // (Chromium's autofill leaves an empty style="" on text inputs: no style.)
    const styled = await page.evaluate(() => [...document.querySelectorAll('[style]:not([style=""])')]
      .map((e) => e.outerHTML.slice(0, 120)));
    assert.deepEqual(styled, [], 'no inline style attributes');
  });

  test('copies sent to a collector that receives none are flagged; the collector\'s count shows beside', async () => {
    // A collector host registers its receiving interface and reports its health, as
    // `tmirror collect --server` does; a session mirrors web-1 to it.
    const collector = await agentPost(server, 'register', {
      HostKey: 'console-collector', Hostname: 'col-1', Role: 'collector',
      Interfaces: [{ Name: 'eth1', MacAddress: '02:00:00:00:00:02', PrivateIpAddress: '10.0.0.12',
                     Mtu: 1500 }] });
    ids.collectorHost = collector.NetworkInterfaces[0].NetworkInterfaceId;
    const targetXml = await apiCall(server, 'CreateTrafficMirrorTarget', {
      NetworkInterfaceId: ids.collectorHost, Description: 'the collector on col-1' });
    ids.collectorTarget = /<trafficMirrorTargetId>(tmt-[0-9a-f]+)</.exec(targetXml)[1];
    const sessionXml = await apiCall(server, 'CreateTrafficMirrorSession', {
      NetworkInterfaceId: ids.source, TrafficMirrorTargetId: ids.collectorTarget,
      TrafficMirrorFilterId: ids.filter, SessionNumber: 5000, 'TagSpecification.1.ResourceType':
      'traffic-mirror-session', 'TagSpecification.1.Tag.1.Key': 'Name',
      'TagSpecification.1.Tag.1.Value': 'web-1-to-col-1' });
    ids.collectorSession = /<trafficMirrorSessionId>(tms-[0-9a-f]+)</.exec(sessionXml)[1];
    let sent = 0;
    let received = 0;
    const report = async (receiving) => {
      sent += 400;
      await agentPost(server, 'counters', {
        InstanceId: ids.instance,
        Sessions: [{ TrafficMirrorSessionId: ids.collectorSession, NetworkInterfaceId: ids.source,
                     NetworkPacketsMirrorIn: sent, NetworkMirrorIn: sent * 100 }],
        Interfaces: [], Problems: [] });
      if (receiving) received += 400;
      await agentPost(server, 'counters', {
        Interfaces: [{ NetworkInterfaceId: ids.collectorHost, CollectorHealthy: 1,
                       CollectorDatagrams: received, CollectorBytes: received * 100 }],
        Sessions: [{ TrafficMirrorSessionId: ids.collectorSession, CollectorDatagrams: received,
                     CollectorBytes: received * 100 }] });
    };
    for (let i = 0; i < 3; i += 1) await report(false);
    await page.waitForTimeout(1000);  // the history is written every 0.5 s
    await go(`#/sessions/${ids.collectorSession}`);
    const warning = page.locator('.delivery[data-delivery="lost"] .warning');
    await warning.waitFor();
    assert.match(await warning.textContent(), /Copies are sent, none arrive/);
    assert.match(await warning.textContent(), new RegExp(ids.collectorHost));
    assert.match(await warning.textContent(), /10\.0\.0\.12/);
    await shot('13-session-copies-lost');
    // The collector starts receiving: the warning goes, its count is charted beside the agent's.
    for (let i = 0; i < 3; i += 1) await report(true);
    let arriving = false;
    for (let i = 0; i < 20 && !arriving; i += 1) {
      await page.waitForTimeout(500);
      await page.reload();
      await page.locator('.monitoring[data-loaded]').waitFor();
      arriving = await page.locator('.delivery').getAttribute('data-delivery') === 'arriving';
    }
    assert.ok(arriving, 'the delivery line says the copies arrive');
    await page.waitForFunction(() => {
      const c = document.querySelector('.monitoring .chart[data-title="Packets per second"]');
      const latest = c && c.dataset.latest ? JSON.parse(c.dataset.latest) : {};
      return latest.CollectorDatagrams > 0 && latest.NetworkPacketsMirrorIn > 0;
    });
    assert.equal(await page.locator('.delivery .warning').count(), 0);
    await shot('14-session-copies-arriving');
  });

  test('from 800 px wide: no page scrolls sideways, no id wraps', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    try {
      for (const [name, hash] of [['sessions', '#/sessions'], ['session', `#/sessions/${ids.session}`],
        ['session-new', '#/sessions/new'], ['session-modify', `#/sessions/${ids.session}/modify`],
        ['interfaces', '#/interfaces'], ['interface', `#/interfaces/${ids.source}`],
        ['collector-interface', `#/interfaces/${ids.collectorHost}`], ['targets', '#/targets'],
        ['target', `#/targets/${ids.target}`], ['filters', '#/filters'],
        ['filter', `#/filters/${ids.filter}`], ['instances', '#/instances'],
        ['instance', `#/instances/${ids.instance}/details`], ['monitoring', '#/monitoring']]) {
        await go(hash);
        await page.locator('main h1').first().waitFor();
        await page.waitForTimeout(400);
        const layout = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth,
          wrapped: [...document.querySelectorAll('main .id')].filter((e) => e.getClientRects().length > 1)
            .map((e) => e.textContent),
          // Tables fit too: none needs its own sideways scroll to show its last column.
          scrolledTables: [...document.querySelectorAll('main .table-scroll')]
            .filter((e) => e.scrollWidth > e.clientWidth + 1)
            .map((e) => `${e.closest('[id], section')?.id || e.closest('section')?.dataset.direction}: ` +
                        `${e.scrollWidth} in ${e.clientWidth}`) }));
        assert.ok(layout.scroll <= layout.width, `${hash}: ${layout.scroll} px wide in ${layout.width}`);
        assert.deepEqual(layout.scrolledTables, [], `${hash}: tables fit`);
        assert.deepEqual(layout.wrapped, [], `${hash}: ids on one line`);
        await shot(`15-800px-${name}`);
      }
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  test('keyboard: menu, search, sort and links; focus lands on each new page\'s heading', async () => {
    await go('#/sessions');
    await page.locator('#sessions-table tbody tr a').first().waitFor();
    await page.evaluate(() => document.activeElement?.blur());
    const focused = () => page.evaluate(() => ({ tag: document.activeElement?.tagName,
      text: document.activeElement?.textContent, cls: document.activeElement?.className || '' }));
    const tabTo = async (want, limit = 40) => {
      for (let i = 0; i < limit; i += 1) {
        await page.keyboard.press('Tab');
        if (want(await focused())) return;
      }
      assert.fail('not reached with Tab');
    };
    await tabTo((f) => f.tag === 'A' && f.text === 'Mirror targets');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/targets$/);
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' &&
                               document.activeElement.textContent === 'Mirror targets');
    // The next Tab starts inside the page, not in the menu.
    await tabTo((f) => f.cls.includes('table-search'), 4);
    await page.keyboard.type('collector-target');
    const table = page.locator('#targets-table');
    await page.waitForFunction(() => document.querySelector('#targets-table')?.dataset.rows === '1' &&
      document.querySelector('#targets-table .page-status').textContent.includes('found'));
    assert.match(await table.locator('tbody tr').textContent(), /collector-target/);
    await tabTo((f) => f.tag === 'A' && /^tmt-/.test(f.text), 10);
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/targets\/tmt-/);
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' &&
                               document.activeElement.textContent.includes('collector-target'));
    // Sort by a header with the keyboard: session numbers ascending, then descending.
    await go('#/sessions');
    await page.waitForFunction(() => Number(document.querySelector('#sessions-table')?.dataset.rows) >= 2);
    const sortButton = page.locator('#sessions-table th button.sort', { hasText: 'Session number' });
    await sortButton.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#sessions-table th[aria-sort="ascending"]'));
    const ascending = await table.page().locator('#sessions-table tbody tr td:nth-child(6)').allTextContents();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#sessions-table th[aria-sort="descending"]'));
    const descending = await page.locator('#sessions-table tbody tr td:nth-child(6)').allTextContents();
    assert.deepEqual(ascending.map(Number), [...ascending.map(Number)].sort((a, b) => a - b));
    assert.deepEqual(descending, [...ascending].reverse());
    await shot('16-sessions-sorted');
  });

  test('agent health: registered agents and the problems they report', async () => {
    await agentPost(server, 'counters', {
      InstanceId: ids.instance, Sessions: [], Interfaces: [],
      Problems: [{ ResourceId: ids.session, Reason: 'target MTU too small' }] });
    await go('#/monitoring');
    // web-1's agent and col-1's collector.
    await page.locator('#registered-agents', { hasText: '2' }).waitFor();
    await page.locator('#agent-problems tbody tr', { hasText: 'target MTU too small' }).waitFor();
    await page.locator('#counter-summary tbody tr', { hasText: ids.session }).waitFor();
    await shot('11-monitoring');
    await go(`#/instances/${ids.instance}/details`);
    await page.locator('.tab-body', { hasText: 'target MTU too small' }).waitFor();
  });

  test('1,000 more sessions: the table pages through all of them', async () => {
    const started = Date.now();
    let next = 2;
    const worker = async () => {
      while (next <= 1001) {
        const number = next++;
        await apiCall(server, 'CreateTrafficMirrorSession', {
          NetworkInterfaceId: ids.source, TrafficMirrorTargetId: ids.target,
          TrafficMirrorFilterId: ids.filter, SessionNumber: number, Description: `bulk ${number}` });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.log(`# created 1000 sessions in ${Date.now() - started} ms`);
    await go('#/sessions');
    const table = page.locator('#sessions-table');
    await page.waitForFunction(() => document.querySelector('#sessions-table')?.dataset.rows === '50');
    await shot('12-sessions-1001-page-1');
    const seen = new Set();
    let pages = 0;
    for (;;) {
      const pageNumber = String(pages + 1);
      await page.waitForFunction((n) => {
        const t = document.querySelector('#sessions-table');
        return t.dataset.page === n && !t.querySelector('.page-status').textContent.startsWith('Loading');
      }, pageNumber);
      const rowIds = await table.locator('tbody tr td:first-child').allTextContents();
      for (const id of rowIds) seen.add(id);
      pages += 1;
      if (await table.locator('.page-next').isDisabled()) break;
      const t0 = Date.now();
      await table.locator('.page-next').click();
      await page.waitForFunction((n) => document.querySelector('#sessions-table').dataset.page === n,
                                 String(pages + 1));
      assert.ok(Date.now() - t0 < 3000, 'a page turns in under 3 s');
    }
    assert.equal(pages, 21);
    assert.equal(seen.size, 1002, 'every session on exactly one page (and col-1\'s)');
    await table.locator('.page-prev').click();
    await page.waitForFunction(() => document.querySelector('#sessions-table').dataset.page === '20');
    await table.locator('.page-size').selectOption('500');
    await page.waitForFunction(() => document.querySelector('#sessions-table').dataset.rows === '500');
    assert.equal(await table.getAttribute('data-page'), '1');
  });

  test('delete: a target in use is refused with the API\'s message; rules and sessions go', async () => {
    await go(`#/targets/${ids.target}`);
    await page.locator('button.delete').click();
    const refused = page.locator('.form-error', { hasText: 'TrafficMirrorTargetInUseException' });
    await refused.waitFor();
    assert.match(page.url(), /#\/targets\/tmt-/, 'still on the target');

    await go(`#/filters/${ids.filter}`);
    const inbound = page.locator('section.rules[data-direction="ingress"]');
    await inbound.locator('tbody tr', { hasText: 'no ssh' }).locator('.delete-rule').click();
    await inbound.locator('tbody tr', { hasText: 'no ssh' }).waitFor({ state: 'detached' });
    assert.equal(await inbound.locator('tbody tr').count(), 1);

    await go(`#/sessions/${ids.session}`);
    await page.locator('button.delete').click();
    await page.waitForURL(/#\/sessions$/);
    await page.waitForFunction(() => document.querySelector('#sessions-table')?.dataset.rows === '50');
    const xml = await apiCall(server, 'DescribeTrafficMirrorSessions',
                              { 'Filter.1.Name': 'traffic-mirror-session-id', 'Filter.1.Value.1': ids.session });
    assert.doesNotMatch(xml, /<item>/);
  });

  test('a deleted session is gone: not on the monitoring page, its link says so', async () => {
    await go('#/monitoring');
    await page.locator('#counter-summary tbody tr', { hasText: ids.collectorSession }).waitFor();
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('#counter-summary tbody tr', { hasText: ids.session }).count(), 0);
    await go(`#/sessions/${ids.session}`);
    await page.locator('h1', { hasText: 'Not found' }).waitFor();
    assert.match(await page.locator('main').textContent(), /InvalidTrafficMirrorSessionId\.NotFound/);
    await page.locator('main a', { hasText: 'Back to Mirror sessions' }).click();
    await page.waitForURL(/#\/sessions$/);
    await shot('17-deleted-session');
  });

  test('nothing was fetched from anywhere but this server, and no script failed', () => {
    const foreign = requests.filter((u) => !u.startsWith(server.url));
    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
});
