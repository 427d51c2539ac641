// Browser journeys of the care pathways' templates: the coordinator computes the windows of a heart-failure
// discharge, gives the GP 7 days instead of 14 (a new version), exports the template; a GP reads it on her
// phone (no sideways scroll), without the adapting form.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);
const slug = 'camargue-gardoise';

test('the coordinator adapts the heart-failure pathway and a GP reads it on her phone', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}`);
  await page.getByRole('navigation', { name: 'Missions de la CPTS' }).getByRole('link', { name: 'Parcours de soins' }).click();
  await page.getByRole('heading', { name: 'Parcours de soins', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Insuffisance cardiaque après hospitalisation' }).click();

  // The windows of a discharge on 31 January 2027; an impossible date is named.
  await page.getByLabel(/Calculer les échéances/).fill('31/02/2027');
  await page.getByRole('button', { name: 'Calculer' }).click();
  assert.match(await page.getByRole('alert').textContent(), /Jour 0/);
  await page.getByLabel(/Calculer les échéances/).fill('31/01/2027');
  await page.getByRole('button', { name: 'Calculer' }).click();
  await page.getByText('Échéance : du 31/01/2027 au 08/02/2027').waitFor();
  await shot(page, '80-parcours-echeances');

  // The GP within 7 days: a wrong delay is named, then the new version is saved.
  const gp = page.getByRole('listitem').filter({ hasText: 'Consultation du médecin traitant' });
  await gp.getByLabel("Jusqu'à").fill('une semaine');
  await page.getByRole('button', { name: 'Enregistrer une nouvelle version' }).click();
  assert.match(await page.getByRole('alert').textContent(), /Délais/);
  await page.getByRole('listitem').filter({ hasText: 'Consultation du médecin traitant' }).getByLabel("Jusqu'à").fill('7 jours');
  await page.getByRole('button', { name: 'Enregistrer une nouvelle version' }).click();
  await page.getByText(/^Version 2/).waitFor();
  assert.match(await page.getByRole('listitem').filter({ hasText: 'Consultation du médecin traitant' }).textContent(), /de J0 à J7/);
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Exporter ce modèle (fichier JSON)' }).click();
  const file = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  assert.equal(file.version, 2);
  assert.deepEqual(page.problems, []);

  // A GP on her phone reads the new version, without the adapting form.
  const phone = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(phone, base, accounts.member);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/${slug}/parcours`);
  await noSidewaysScroll(phone, 'the pathways list');
  await shot(phone, '81-parcours-telephone');
  await phone.getByRole('link', { name: 'Insuffisance cardiaque après hospitalisation' }).click();
  await phone.getByText(/^Version 2/).waitFor();
  assert.equal(await phone.getByRole('button', { name: 'Enregistrer une nouvelle version' }).count(), 0);
  await noSidewaysScroll(phone, 'a pathway template');
  await shot(phone, '82-parcours-modele-telephone');
  assert.deepEqual(phone.problems, []);
});
