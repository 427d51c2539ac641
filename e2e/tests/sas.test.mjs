// Interoperability and organisation of unscheduled care in a browser: the coordinator issues a token and the
// SAS platform's search (flow INT_R04) returns a Bundle that an independent FHIR R4 library (FHIR.js) validates;
// a GP subscribes to the calendar address, whose feed a standard iCalendar parser (ical.js) reads; the rota is
// filled and a turn swapped; the search's map view is shown; a GP accepts on her phone the swap a colleague
// proposes and proposes one herself.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import ICAL from 'ical.js';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll, PASSWORD } from './harness.mjs';

const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');
const fhirpath = require('fhirpath');
const fhirpathR4 = require('fhirpath/fhir-context/r4');
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

  // The SAS searches the effectors it knows by their RPPS: the coordinator reads the one of a GP who publishes.
  // Over the coming week: the demo publishes on weekdays, and a Friday evening's next two days are a weekend.
  await page.goto(`${base}/c/${slug}/soins-non-programmes/creneaux?heures=168`);
  const doctor = (await page.locator('td[data-label="Professionnel"]').first().textContent()).replace(/\(.*\)/, '').trim();
  await page.goto(`${base}/c/${slug}/annuaire?q=${encodeURIComponent(doctor.split(' ').pop())}`);
  await page.getByRole('link', { name: new RegExp(`${doctor}$`) }).first().click();
  const rpps = (await page.locator('dt:text-is("RPPS") + dd').textContent()).trim().slice(0, 11);
  assert.match(rpps, /^\d{11}$/);
  const includes = 'status=free&_include=Slot:schedule&_include:iterate=Schedule:actor'
    + '&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization';
  // Written as the guide writes it: raw `|` and `+` in the address.
  const week = `start=ge${new Date().toISOString()}&start=le${new Date(Date.now() + 6 * 86400000).toISOString()}`;
  const query = `${includes}&${week}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|8${rpps}`;
  const refused = await fetch(`${base}/fhir/Slot?${query}`);
  assert.equal(refused.status, 401);
  const nobody = await fetch(`${base}/fhir/Slot?${includes}`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(nobody.status, 400, 'the practitioners are required');
  assert.match((await nobody.json()).issue[0].diagnostics, /^schedule\.actor:Practitioner\.identifier : /);
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
    assert.match(slot.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0[12]:00$/);
  }
  const schedules = bundle.entry.filter((e) => e.resource.resourceType === 'Schedule').map((e) => e.resource);
  for (const schedule of schedules) {
    for (const actor of schedule.actor) assert.ok(urls.has(actor.reference), actor.reference);
  }
  // The ANS test kit's CPTS checks (interop-outil-fhir-sas-test-kit, lib/sas_test_kit/aggregation/…), their
  // FHIRPath expressions run by the HL7 FHIRPath engine on this answer (the kit's double quotes written as
  // FHIRPath's single quotes).
  const P = {
    slot: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator',
    schedule: 'http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur',
    practitioner: 'http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur',
    role: 'http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur',
    service: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator',
    organization: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator',
  };
  const kit = (path) => fhirpath.evaluate(bundle, path, null, fhirpathR4);
  const one = (path) => kit(path)[0];
  // ps_validate_cardinality_test: one Practitioner, Schedule, PractitionerRole and Location for the RPPS asked;
  // total = the Slots.
  assert.equal(one(`entry.where(resource.meta.profile='${P.practitioner}').count()`), 1);
  assert.equal(one(`entry.where(resource.meta.profile='${P.schedule}').count()`), 1);
  assert.equal(one(`entry.where(resource.meta.profile='${P.role}').count()`), 1);
  assert.equal(one(`entry.where(resource.meta.profile='${P.role}').resource.contained.count()`), 1);
  assert.equal(one('total'), one(`entry.where(resource.meta.profile='${P.slot}').count()`));
  // ps_validate_rpps_test
  const idnps = one(`entry.where(resource.meta.profile='${P.practitioner}').resource.identifier.value`);
  assert.equal(idnps, `8${rpps}`);
  assert.match(idnps, /^8[0-9]{11}$/);
  // ps_validate_dates_test
  for (const date of [...kit(`entry.where(resource.meta.profile='${P.slot}').resource.start`), ...kit(`entry.where(resource.meta.profile='${P.slot}').resource.end`)]) {
    assert.match(date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
  }
  assert.equal(one(`entry.where(resource.meta.profile='${P.slot}').resource.all(start<end)`), true);
  // ps_validate_ref_test
  const practitionerId = one(`entry.where(resource.meta.profile='${P.practitioner}').resource.id`);
  const roleId = one(`entry.where(resource.meta.profile='${P.role}').resource.id`);
  assert.equal(one(`entry.where(resource.meta.profile='${P.role}').resource.practitioner.reference`), `Practitioner/${practitionerId}`);
  const actors = kit(`entry.where(resource.meta.profile='${P.schedule}').resource.actor.reference`).join(', ');
  assert.ok(actors.includes(`PractitionerRole/${roleId}`) && actors.includes(`Practitioner/${practitionerId}`));
  assert.equal(one(`entry.where(resource.meta.profile='${P.role}').resource.location.reference`), `#${one(`entry.where(resource.meta.profile='${P.role}').resource.contained.id`)}`);
  // ps_validate_location_test
  assert.equal(one(`entry.where(resource.meta.profile='${P.role}').resource.contained.address.line.exists()`), true);
  assert.equal(one(`entry.where(resource.meta.profile='${P.role}').resource.contained.address.city.exists()`), true);
  assert.match(one(`entry.where(resource.meta.profile='${P.role}').resource.contained.address.postalCode`), /^[0-9]{5}$/);
  // ps_slot_has_url_test (on the CPTS profile; the POSIX class [[:space:]] written \\s for the JavaScript engine), ps_validate_slots_status_test, ps_validate_appointmentType_test
  assert.equal(one(`entry.where(resource.meta.profile='${P.slot}').resource.all(comment.exists() and comment.empty().not() and comment.matches('^\\\\s*$').not())`), true);
  assert.deepEqual([...new Set(kit(`entry.where(resource.meta.profile='${P.slot}').resource.status`))], ['free']);
  for (const code of kit(`entry.where(resource.meta.profile='${P.slot}').resource.appointmentType.coding.code.distinct()`)) {
    assert.ok(['ROUTINE', 'WALKIN'].includes(code), code);
  }
  // ps_bundle_url_equal_url_test: the self link's query is the request's.
  const sorted = (url) => [...new URL(url.replace(/\+/g, '%2B')).searchParams.entries()].map((p) => p.join('=')).sort();
  assert.deepEqual(sorted(one('link.url')), sorted(`${base}/fhir/Slot?${query}`));
  // cpts_validate_cardinality_test, cpts_validate_ref_test, cpts_validate_id_test
  const services = one(`entry.where(resource.meta.profile='${P.service}').count()`);
  assert.ok(services > 0);
  assert.equal(services, one(`entry.where(resource.meta.profile='${P.organization}').count()`));
  const organizationId = one(`entry.where(resource.meta.profile='${P.organization}').resource.id`);
  assert.equal(one(`entry.where(resource.meta.profile='${P.service}').resource.providedBy.reference`), `Organization/${organizationId}`);
  const serviceId = one(`entry.where(resource.meta.profile='${P.service}').resource.id`);
  const references = kit(`entry.resource.where(meta.profile = '${P.slot}').serviceType.where(coding.code = '604').extension.where(url = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType' and value is Reference).value.reference`);
  assert.ok(references.length > 0 && references.every((r) => r === `HealthcareService/${serviceId}`), references.join());
  assert.match(one(`entry.where(resource.meta.profile='${P.organization}').resource.identifier.value`), /^1[0-9]{9}$/);
  // cpts_validate_meta_test, cpts_validate_service_type_test
  assert.ok(kit(`entry.where(resource.meta.profile='${P.slot}').resource.meta.security.code.distinct()`).includes('CPTS'));
  // ps_validate_phone_test, ps_validate_idnst_test, organizational_group_optionnel (name and phone of the CPTS)
  for (const phone of kit(`entry.where(resource.meta.profile='${P.role}').resource.telecom.value`)) {
    assert.match(phone, /^\+(33|262|590|594|596)\d{9}$/);
  }
  for (const idnst of kit(`entry.where(resource.meta.profile='${P.role}').resource.organization.identifier.value`)) {
    assert.match(idnst, /^(1[0-9]{9}|3[0-9]{14}|4[0-9]{14})$/);
  }
  assert.ok(one(`entry.where(resource.meta.profile='${P.organization}').resource.name`));
  assert.match(one(`entry.where(resource.meta.profile='${P.organization}').resource.telecom.value`), /^\+33\d{9}$/);
  // The address the SAS opens from Slot.comment, with `origin` appended: the regulator's phone goes through the
  // login, then books with the SAS as origin.
  const slotUrl = one(`entry.where(resource.meta.profile='${P.slot}').resource.comment`).replace(/^http:\/\/[^/]+/, base);
  const regulator = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await regulator.goto(`${slotUrl}?origin=sas`);
  await regulator.getByLabel('Adresse e-mail').fill(accounts.secretary);
  await regulator.getByLabel('Mot de passe').fill(PASSWORD);
  await regulator.getByRole('button', { name: 'Se connecter' }).click();
  await regulator.getByRole('heading', { name: 'Créneau de soins non programmés' }).waitFor();
  await regulator.getByText('Vous venez de la plateforme du SAS').waitFor();
  await noSidewaysScroll(regulator, 'the slot page opened from the SAS');
  await shot(regulator, '86-creneau-depuis-sas-telephone');
  await regulator.getByRole('button', { name: 'Réserver ce créneau' }).click();
  await regulator.getByRole('heading', { name: /Réservation/ }).waitFor();
  assert.equal(await regulator.getByLabel('Origine').inputValue(), 'sas', 'the SAS origin is kept');
  await noSidewaysScroll(regulator, 'the booking opened from the SAS');
  await shot(regulator, '87-reservation-depuis-sas-telephone');
  assert.deepEqual(regulator.problems, []);
  // At the desk, opened from Maillage's own search (no origin): the same page, without the SAS line.
  await page.goto(slotUrl);
  await page.getByRole('heading', { name: 'Créneau de soins non programmés' }).waitFor();
  assert.equal(await page.getByText('Vous venez de la plateforme du SAS').count(), 0);
  await shot(page, '88-creneau-bureau');

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

test('the platform administrator registers the SAS by its certificate, then revokes it', async () => {
  const base = session.server.base;
  for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
    const phone = viewport.width < 500;
    const page = await newPage(session.browser, { viewport, isMobile: phone });
    await login(page, base, accounts.admin);
    await page.goto(`${base}/admin`);
    await page.getByRole('link', { name: 'Clients SAS' }).click();
    await page.getByRole('heading', { name: 'Clients SAS', level: 1 }).waitFor();
    const name = phone ? 'SAS (téléphone)' : 'Plateforme numérique SAS';
    const commonName = phone ? 'sas-mobile.sante.fr' : 'sas.sante.fr';
    // Without the certificate's Common Name: refused, the field named and announced.
    await page.getByLabel('Nom du client').fill(name);
    await page.getByLabel('CPTS Camargue Gardoise (démo)').check();
    await page.getByRole('button', { name: 'Enregistrer le client' }).click();
    assert.match(await page.getByRole('alert').textContent(), /Common Name \(CN\)/);
    await page.getByLabel('Common Name (CN) du certificat').fill(commonName);
    await page.getByLabel(/Organizational Unit/).fill('PTF-SAS');
    await page.getByRole('button', { name: 'Enregistrer le client' }).click();
    await page.getByText(/est enregistré/).waitFor();
    const card = () => page.getByRole('listitem').filter({ hasText: `CN=${commonName},` });
    await card().waitFor();
    await noSidewaysScroll(page, 'the SAS clients page');
    await shot(page, phone ? '96-clients-sas-telephone' : '96-clients-sas');
    // Revoking asks first, going back by default.
    await card().getByRole('button', { name: /Révoquer/ }).click();
    await page.getByRole('heading', { name: 'Révoquer ce client SAS ?' }).waitFor();
    await page.getByRole('button', { name: 'Oui, révoquer le client' }).click();
    await page.getByText('Le client SAS est révoqué.').waitFor();
    assert.match(await card().textContent(), /Révoqué le/);
    assert.deepEqual(page.problems, []);
    await page.close();
  }
});
