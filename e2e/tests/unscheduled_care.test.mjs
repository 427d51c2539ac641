// Browser journey of unscheduled care: a GP publishes a weekly pattern of home visits, the secretary finds the
// earliest slot and books it for a patient, the coordinator who tried the same slot a moment later is told it
// is taken, and the secretary records a no-show.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);
const slug = 'camargue-gardoise';

test('a GP publishes slots, one is booked once, a no-show is recorded', async () => {
  const base = session.server.base;

  // 1. The GP publishes home visits every week on tomorrow's weekday, from midnight (so that the first one is
  //    less than a day away whatever the hour of the test).
  const gp = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(gp, base, accounts.member);
  await gp.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await gp.goto(`${base}/c/${slug}/soins-non-programmes`);
  await gp.getByRole('link', { name: 'Mes créneaux' }).first().click();
  // The weekly form (the page also has one for a single slot).
  const weekly = () => gp.locator('form', { has: gp.getByLabel('Fin (HH:MM)') });
  await weekly().getByLabel('Début (HH:MM)').fill('10:00');
  await weekly().getByLabel('Fin (HH:MM)').fill('09:00');
  await weekly().getByRole('button', { name: 'Publier', exact: true }).click();
  const refused = await gp.getByRole('alert').textContent();
  assert.match(refused, /Fin/);
  // The field named in the summary is marked invalid and has the focus.
  const end = weekly().getByLabel('Fin (HH:MM)');
  assert.equal(await end.getAttribute('aria-invalid'), 'true');
  assert.equal(await gp.evaluate(() => document.activeElement.getAttribute('aria-invalid')), 'true');
  await shot(gp, '69-erreur-champ-telephone');
  await weekly().getByLabel('Début (HH:MM)').fill('00:00');
  await weekly().getByLabel('Fin (HH:MM)').fill('03:00');
  await weekly().getByLabel("Durée d'un créneau (minutes)").fill('30');
  await weekly().getByLabel('Réservé à').selectOption({ label: 'Pour la CPTS' });
  await weekly().getByLabel('Modalité').selectOption({ label: 'Visite à domicile' });
  await weekly().getByRole('button', { name: 'Publier', exact: true }).click();
  await gp.getByText(/\d+ créneaux? publiés?\./).waitFor();
  assert.match(await gp.locator('main').textContent(), /Visite à domicile/);
  await shot(gp, '70-mes-creneaux');
  assert.deepEqual(gp.problems, []);

  // 2. The secretary and the coordinator look for a home visit at the same time.
  const search = `${base}/c/${slug}/soins-non-programmes/creneaux?modalite=domicile&heures=48`;
  const secretary = await newPage(session.browser);
  await login(secretary, base, accounts.secretary);
  await secretary.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await secretary.goto(search);
  const coordinator = await newPage(session.browser);
  await login(coordinator, base, accounts.coordinator);
  await coordinator.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await coordinator.goto(search);
  await shot(secretary, '71-creneaux-libres');

  // The indicators before: what the booking and the no-show must move.
  const indicators = `${base}/c/${slug}/soins-non-programmes/indicateurs`;
  const figures = async (page) => {
    await page.goto(indicators);
    const read = async (name) => (await page.locator(`[data-indicator="${name}"]`).textContent()).trim();
    return { booked: Number(await read('booked')), noShow: await read('no-show'), offered: Number(await read('offered')) };
  };
  const viewer = await newPage(session.browser);
  await login(viewer, base, accounts.secretary);
  await viewer.getByRole('heading', { name: /Bonjour/ }).waitFor();
  const before = await figures(viewer);

  // 3. The secretary holds the earliest slot and confirms it with the patient.
  await secretary.getByRole('button', { name: /^Réserver le créneau/ }).first().click();
  await secretary.getByText(/retenu pour vous/).waitFor();
  await secretary.getByLabel('Nom', { exact: true }).fill('Essai-Visite');
  await secretary.getByLabel('Prénom').fill('Anatole');
  await secretary.getByLabel('Date de naissance (JJ/MM/AAAA)').fill('12/12/1941');
  await secretary.getByLabel('Téléphone').fill('04 66 00 22 33');
  await secretary.getByLabel('Origine').selectOption({ label: 'Régulation du SAS' });
  await secretary.getByLabel('Motif').selectOption({ label: 'Fièvre, infection' });
  await secretary.getByRole('button', { name: 'Confirmer la réservation' }).click();
  await secretary.getByText('Confirmé', { exact: true }).waitFor();
  await shot(secretary, '72-reservation-confirmee');

  // 4. The coordinator, whose list still shows that slot, is told it is taken.
  await coordinator.getByRole('button', { name: /^Réserver le créneau/ }).first().click();
  await coordinator.getByText(/vient d'être réservé par quelqu'un d'autre/).waitFor();
  await shot(coordinator, '73-creneau-deja-pris');

  // 5. The patient did not come. The secretary, on her phone, finds the booking from her dashboard's
  //    « À faire » (patients expected that day), in the day's bookings list, and records the no-show.
  const mobile = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(mobile, base, accounts.secretary);
  await mobile.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await mobile.goto(`${base}/c/${slug}`);
  // The booked slot is tomorrow (Paris): that day's line (the demo may expect patients on other days too).
  const tomorrow = new Date(Date.now() + 86400000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });
  await mobile.locator(`a[href*="jour=${tomorrow}"]`, { hasText: /patients? attendus? de soins non programmés/ }).first().click();
  await mobile.getByRole('heading', { name: /^Réservations du / }).waitFor();
  await noSidewaysScroll(mobile, 'the bookings list');
  await mobile.getByText(/Essai-Visite Anatole/).waitFor();
  await shot(mobile, '74-liste-reservations-telephone');
  // The patient calls back: found by her phone number, as she says it.
  await mobile.getByLabel('Patient').fill('04 66 00 22 33');
  await mobile.getByRole('button', { name: 'Afficher' }).click();
  await mobile.getByText(/Essai-Visite Anatole/).waitFor();
  assert.equal(await mobile.getByText(/EXEMPLE-SNP/).count(), 0, 'only the patient searched for');
  await noSidewaysScroll(mobile, 'the bookings search');
  await shot(mobile, '74b-recherche-reservation-telephone');
  await mobile.getByRole('link', { name: /Enregistrer l'issue du rendez-vous de Essai-Visite/ }).click();
  await mobile.getByLabel('Issue').selectOption({ label: 'Patient absent (rendez-vous non honoré)' });
  await mobile.getByRole('button', { name: "Enregistrer l'issue" }).click();
  await mobile.getByText('Patient absent (rendez-vous non honoré)', { exact: true }).waitFor();
  await noSidewaysScroll(mobile, 'the booking page');
  await shot(mobile, '75-absence-enregistree-telephone');
  assert.deepEqual(mobile.problems, []);
  assert.deepEqual(secretary.problems, []);

  // 6. The indicators follow: one more booked, a no-show rate that counts it.
  const afterwards = await figures(viewer);
  assert.equal(afterwards.booked, before.booked + 1);
  assert.notEqual(afterwards.noShow, '—');
  assert.notEqual(afterwards.noShow, before.noShow);
  await viewer.getByRole('img', { name: /Créneaux offerts, réservés et honorés/ }).waitFor();
  await shot(viewer, '76-indicateurs-snp');
  assert.deepEqual(viewer.problems, []);
});
