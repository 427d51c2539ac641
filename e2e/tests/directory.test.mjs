// Browser journey of the directory: a coordinator extends the territory, imports a sample extract of the
// national directory through the upload page (progress, then the report), searches the directory, completes
// a professional's CPTS record (a wrong birth year is named), opens the diagnostic, and the professional
// made public appears on the public directory page without login.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { accounts, root, useMaillage, login, newPage, shot } from './harness.mjs';

const session = useMaillage(before, after);
const sample = resolve(root, 'e2e', 'fixtures', 'PS_LibreAcces_Personne_activite_exemple.txt');

test('territory, import, search, record and diagnostic', async () => {
  const page = await newPage(session.browser);
  const base = session.server.base;
  await login(page, base, accounts.otherCoordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();

  // Territory: three communes around Lunel join the CPTS.
  await page.goto(`${base}/c/vidourle/territoire`);
  await page.getByLabel('Ou collez des codes INSEE').fill('34145 34154 34146');
  await page.getByRole('button', { name: 'Ajouter ces communes' }).click();
  await page.getByRole('img', { name: /Carte des 7 communes/ }).waitFor();

  // Import of the sample extract, with its progress page and report.
  await page.getByRole('navigation', { name: 'Territoire et annuaire' }).getByRole('link', { name: 'Imports' }).click();
  await page.getByLabel('Annuaire national (PS_LibreAcces_Personne_activite)').check();
  await page.getByLabel(/^Fichier/).setInputFiles(sample);
  await shot(page, '40-import-formulaire');
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.getByText('Terminé').waitFor({ timeout: 30_000 });
  const report = await page.locator('.report').textContent();
  const created = Number(/Créés\s*(\d+)/.exec(report)[1]);
  assert.ok(created > 20, report);
  assert.match(report, /Lignes rejetées\s*0/);
  await shot(page, '41-import-rapport');

  // The same file again changes nothing.
  await page.getByRole('link', { name: '← Imports' }).click();
  await page.getByLabel(/^Fichier/).setInputFiles(sample);
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.getByText('Terminé').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('.report').textContent(), /Créés\s*0\s*Mis à jour\s*0/);

  // Search without accents, by commune and profession.
  await page.goto(`${base}/c/vidourle/annuaire`);
  await page.getByLabel('Nom, profession, commune, compétence, structure').fill('lunel');
  await page.getByLabel('Profession', { exact: true }).selectOption({ label: 'Médecin généraliste' });
  await page.getByRole('button', { name: 'Rechercher' }).click();
  const rows = page.getByRole('table').getByRole('row');
  assert.ok(await rows.count() > 1, 'at least one general practitioner in Lunel');
  await shot(page, '42-annuaire-recherche');
  const first = page.getByRole('table').getByRole('link').first();
  const name = (await first.textContent()).trim();
  await first.click();
  await page.getByRole('heading', { name }).waitFor();

  // The CPTS record: a wrong birth year is refused and named, then the record is saved.
  await page.getByRole('link', { name: 'Modifier la fiche CPTS' }).click();
  await page.getByLabel('Membre (adhérent) de la CPTS').check();
  await page.getByLabel('Nombre de nouveaux patients possible').fill('12');
  await page.getByLabel('Année de naissance (suivi des départs à la retraite)').fill('1890');
  await page.getByLabel("Visibilité dans l'annuaire").selectOption({ label: 'Publique (annuaire public)' });
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /Année de naissance.*1890/);
  await shot(page, '43-fiche-erreur');
  await page.getByLabel('Année de naissance (suivi des départs à la retraite)').fill('1961');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.getByRole('heading', { name }).waitFor();
  const facts = await page.locator('.facts').textContent();
  assert.match(facts, /Membre de la CPTS\s*oui/);
  assert.match(facts, /oui, 12 patients/);
  assert.match(facts, /1961/);
  await shot(page, '44-fiche-professionnel');

  // A structure without FINESS (the town hall), with a partnership agreement; a wrong FINESS is named.
  await page.goto(`${base}/c/vidourle/structures`);
  await page.getByRole('link', { name: 'Ajouter une structure' }).click();
  await page.getByLabel('Nom', { exact: true }).fill('Mairie de Lunel');
  await page.getByLabel('Type').selectOption({ label: 'Mairie' });
  await page.getByLabel('FINESS (facultatif)').fill('340000000');
  await page.getByLabel('Commune', { exact: true }).selectOption({ label: 'Lunel' });
  await page.getByLabel('Lien avec la CPTS').selectOption({ label: 'Partenaire' });
  await page.getByLabel('Convention signée le').fill('2026-01-15');
  await page.getByLabel("Convention valable jusqu'au").fill('2028-01-14');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  assert.match(await page.getByRole('alert').textContent(), /FINESS.*340000000.*Luhn/);
  await page.getByLabel('FINESS (facultatif)').fill('');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.getByRole('heading', { name: 'Mairie de Lunel' }).waitFor();
  assert.match(await page.locator('.facts').textContent(), /2026-01-15 – 2028-01-14/);
  await shot(page, '47-structure');

  // Diagnostic: densities, charts, general practitioners aged 60 and over.
  await page.goto(`${base}/c/vidourle/diagnostic`);
  await page.getByRole('img', { name: /Densité de professionnels/ }).waitFor();
  const table = await page.getByRole('table', { name: /densités/ }).textContent();
  assert.match(table, /Médecins généralistes/);
  assert.match(await page.locator('main').textContent(), /ont 60 ans ou plus/);
  await shot(page, '45-diagnostic');

  // The public directory shows the public record, without login.
  const visitor = await newPage(session.browser);
  await visitor.goto(`${base}/annuaire/vidourle?q=${encodeURIComponent(name.split(' ').pop())}`);
  await visitor.getByText(name).first().waitFor();
  await shot(visitor, '46-annuaire-public');
  await visitor.setViewportSize({ width: 390, height: 844 });
  await shot(visitor, '48-annuaire-public-telephone');
  assert.deepEqual(page.problems, []);
  assert.deepEqual(visitor.problems, []);
});
