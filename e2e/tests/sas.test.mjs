// Interoperability and organisation of unscheduled care in a browser: the coordinator issues a token and the
// SAS platform's search (flow INT_R04) returns a Bundle that an independent FHIR R4 library (FHIR.js) validates;
// a GP subscribes to the calendar address, whose feed a standard iCalendar parser (ical.js) reads; the rota is
// filled and a turn swapped; the search's map view is shown; a GP accepts on her phone the swap a colleague
// proposes and proposes one herself.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import ICAL from 'ical.js';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');
const session = useMaillage(before, after);
const slug = 'camargue-gardoise';

test('the SAS reads a valid FHIR R4 Bundle with a token the coordinator issues', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}/soins-non-programmes`);
  await page.getByRole('link', { name: 'Accès du SAS' }).first().click();
  await page.getByLabel('Nom du jeton (qui l\'utilise)').fill('Plateforme SAS du Gard');
  await page.getByRole('button', { name: 'Émettre un jeton' }).click();
  const secret = await page.getByLabel('Jeton', { exact: true }).inputValue();
  assert.match(secret, /^mlg_[0-9a-f]{64}$/);
  await shot(page, '80-jeton-sas');

  const query = 'status=free&_include=Slot:schedule&_include:iterate=Schedule:actor'
    + '&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization';
  const refused = await fetch(`${base}/fhir/Slot?${query}`);
  assert.equal(refused.status, 401);
  const answer = await fetch(`${base}/fhir/Slot?${query}`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type'), /^application\/fhir\+json/);
  const bundle = await answer.json();
  const fhir = new Fhir();
  const report = fhir.validate(bundle);
  const errors = report.messages.filter((m) => m.severity === 'error');
  assert.deepEqual(errors, [], JSON.stringify(errors.slice(0, 5)));
  assert.equal(bundle.type, 'searchset');
  const kinds = new Set(bundle.entry.map((e) => e.resource.resourceType));
  for (const kind of ['Slot', 'Schedule', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Organization']) {
    assert.ok(kinds.has(kind), `${kind} in the Bundle`);
  }
  // Every reference of a Slot resolves inside the Bundle, as the guide's _include chain promises.
  const urls = new Set(bundle.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`));
  for (const slot of bundle.entry.filter((e) => e.resource.resourceType === 'Slot').map((e) => e.resource)) {
    assert.ok(urls.has(slot.schedule.reference), slot.schedule.reference);
    const service = slot.serviceType.find((s) => s.extension)?.extension[0].valueReference.reference;
    assert.ok(urls.has(service), service);
    assert.match(slot.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/);
  }
  const schedules = bundle.entry.filter((e) => e.resource.resourceType === 'Schedule').map((e) => e.resource);
  for (const schedule of schedules) {
    for (const actor of schedule.actor) assert.ok(urls.has(actor.reference), actor.reference);
  }
  const practitioner = bundle.entry.find((e) => e.resource.resourceType === 'Practitioner').resource;
  assert.equal(practitioner.identifier[0].system, 'urn:oid:1.2.250.1.71.4.2.1');
  const metadata = await (await fetch(`${base}/fhir/metadata`)).json();
  assert.deepEqual(fhir.validate(metadata).messages.filter((m) => m.severity === 'error'), []);

  // Revoked from the page: refused at once.
  await page.goto(`${base}/c/${slug}/soins-non-programmes/jetons`);
  await page.getByRole('button', { name: 'Révoquer « Plateforme SAS du Gard »' }).click();
  // Asked first: going back is the page's first choice.
  await page.getByRole('heading', { name: 'Révoquer ce jeton ?' }).waitFor();
  await shot(page, '82-revoquer-confirmation');
  await page.getByRole('button', { name: 'Oui, révoquer le jeton' }).click();
  await page.getByText(/Révoqué le/).waitFor();
  const after = await fetch(`${base}/fhir/Slot?${query}`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(after.status, 401);
  assert.deepEqual(page.problems, []);
});

test('a GP subscribes to the calendar address and a standard parser reads the feed', async () => {
  const base = session.server.base;
  const gp = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(gp, base, accounts.member);
  await gp.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await gp.goto(`${base}/c/${slug}/soins-non-programmes/mes-creneaux`);
  // A single slot first, then the address.
  const single = gp.locator('form', { has: gp.getByLabel('Heure (HH:MM)') });
  await single.getByLabel('Heure (HH:MM)').fill('22:20');
  await single.getByLabel('Réservé à').selectOption({ label: 'Réservé au SAS' });
  await single.getByRole('button', { name: 'Publier ce créneau' }).click();
  await gp.getByText('1 créneau publié.').waitFor();
  await gp.getByRole('button', { name: "Créer l'adresse de mon agenda" }).click();
  const address = await gp.getByLabel("Adresse de l'agenda").inputValue();
  assert.match(address, /\/agenda\/mlg_[0-9a-f]{64}\/creneaux\.ics$/);
  await shot(gp, '81-adresse-agenda');
  const feed = await fetch(address.replace(/^https?:\/\/[^/]+/, base));
  assert.equal(feed.status, 200);
  const calendar = new ICAL.Component(ICAL.parse(await feed.text()));
  const events = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
  assert.ok(events.length > 5);
  const summaries = new Set(events.map((e) => e.summary));
  assert.ok(summaries.has('SNP — patient réservé'), [...summaries].join(', '));
  assert.ok(summaries.has('SNP — créneau libre'));
  assert.ok([...summaries].some((s) => s.startsWith('Astreinte')));
  const late = events.find((e) => e.startDate.toJSDate().getUTCHours() === 21 || e.startDate.toJSDate().getUTCHours() === 20);
  assert.ok(late, 'the single slot of 22:20 (Paris) is in the feed');
  for (const event of events) {
    assert.ok(event.endDate.compare(event.startDate) > 0);
    assert.ok(event.uid.endsWith('@maillage'));
  }
  assert.deepEqual(gp.problems, []);
});

test('the coordinator fills the rota and swaps two turns; the search shows a map', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}/soins-non-programmes/astreintes`);
  await page.getByLabel('Nom du tableau').fill('Dimanche matin');
  await page.getByLabel('Jour', { exact: true }).selectOption({ label: 'Dimanche' });
  await page.getByLabel('Début (HH:MM)').fill('09:00');
  await page.getByLabel('Fin (HH:MM)').fill('13:00');
  const boxes = page.getByRole('group', { name: /Professionnels/ }).getByRole('checkbox');
  assert.ok(await boxes.count() >= 2, 'members to share the rota among');
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.getByRole('button', { name: 'Remplir le tableau' }).click();
  await page.getByText(/\d+ tours? d'astreinte ajoutés?\./).waitFor();
  const firstSunday = page.getByRole('row').filter({ hasText: 'Dimanche matin' }).first();
  const before = await firstSunday.locator('td').nth(3).textContent();
  await firstSunday.getByText('Échanger ou donner').click();
  const swapWith = firstSunday.getByLabel('Échanger avec');
  const options = await swapWith.locator('option').allTextContents();
  const other = options.find((o) => !o.endsWith(before));
  assert.ok(other, `a turn of someone else than ${before}`);
  await swapWith.selectOption({ label: other });
  await firstSunday.getByRole('button', { name: 'Échanger', exact: true }).click();
  await page.getByText("Le tableau d'astreinte est à jour.").waitFor();
  const afterSwap = await page.getByRole('row').filter({ hasText: 'Dimanche matin' }).first().locator('td').nth(3).textContent();
  assert.notEqual(afterSwap, before);
  await page.getByRole('img', { name: /Tours d'astreinte par professionnel/ }).waitFor();
  await shot(page, '82-tableau-astreinte');

  await page.goto(`${base}/c/${slug}/soins-non-programmes/creneaux?commune=30003&distance=30&heures=336`);
  await page.getByRole('link', { name: 'carte' }).click();
  await page.getByRole('img', { name: /Carte des créneaux libres/ }).waitFor();
  await shot(page, '83-carte-creneaux');
  assert.deepEqual(page.problems, []);
});

test('a GP accepts on her phone the swap a colleague proposes, then proposes one herself', async () => {
  const base = session.server.base;
  const phone = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(phone, base, accounts.member);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/${slug}`);
  await phone.getByRole('link', { name: "1 proposition d'échange d'astreinte à accepter ou refuser." }).click();
  await phone.getByRole('heading', { name: 'Mes échanges' }).waitFor();
  await phone.getByText(/vous propose son tour du samedi/).waitFor();
  await noSidewaysScroll(phone, 'the rota with a swap to answer');
  await shot(phone, '84-echange-astreinte-telephone');
  await phone.getByRole('button', { name: "Accepter l'échange" }).click();
  await phone.getByRole('heading', { name: "Accepter cet échange d'astreinte ?" }).waitFor();
  await noSidewaysScroll(phone, 'the swap confirmation');
  await phone.getByRole('button', { name: "Oui, accepter l'échange" }).click();
  await phone.getByText('Échange accepté : les deux tours ont changé de main.').waitFor();
  await noSidewaysScroll(phone, 'the rota after the swap');

  // On the desk: she offers one of her turns against a colleague's; the message's state is shown.
  const desk = await newPage(session.browser);
  await login(desk, base, accounts.member);
  await desk.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await desk.goto(`${base}/c/${slug}/soins-non-programmes/astreintes`);
  const own = desk.getByRole('row').filter({ has: desk.getByText('Proposer un échange') }).first();
  await own.getByText('Proposer un échange').click();
  await own.getByRole('button', { name: "Proposer l'échange" }).click();
  await desk.getByRole('alert').getByText(/Contre le tour de/).waitFor();
  await desk.goto(`${base}/c/${slug}/soins-non-programmes/astreintes`);
  const row = desk.getByRole('row').filter({ has: desk.getByText('Proposer un échange') }).first();
  await row.getByText('Proposer un échange').click();
  const against = row.getByLabel('Contre le tour de');
  const choices = (await against.locator('option').allTextContents()).filter((o) => !o.startsWith('—'));
  assert.ok(choices.length > 0, 'a colleague turn to ask for');
  await against.selectOption({ label: choices[0] });
  await row.getByRole('button', { name: "Proposer l'échange" }).click();
  await desk.getByText("Votre proposition d'échange est envoyée").waitFor();
  await desk.getByText(/Message à votre confrère : /).waitFor();
  await shot(desk, '85-echange-propose');
  assert.deepEqual(phone.problems, []);
});
