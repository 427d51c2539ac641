// Browser journey of the territory: a coordinator defines the communes of a new CPTS by search and by
// pasting INSEE codes, a wrong code is named, the population, size category and map appear.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot } from './harness.mjs';

const session = useMaillage(before, after);

test('a coordinator defines the territory of the CPTS', async () => {
  const page = await newPage(session.browser);
  await login(page, session.server.base, accounts.otherCoordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${session.server.base}/c/vidourle`);
  await page.getByRole('navigation', { name: 'Missions de la CPTS' }).getByRole('link', { name: 'Territoire et annuaire' }).click();
  await page.getByRole('img', { name: /Carte des 4 communes/ }).waitFor();

  await page.getByLabel('Rechercher une commune (nom ou code postal)').fill('lunel');
  await page.getByRole('button', { name: 'Rechercher' }).click();
  await page.getByRole('button', { name: 'Ajouter Lunel', exact: true }).click();
  await page.getByRole('cell', { name: 'Lunel', exact: true }).waitFor();

  await page.getByLabel('Ou collez des codes INSEE').fill('34154 34145, 99999');
  await page.getByRole('button', { name: 'Ajouter ces communes' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /code INSEE « 99999 » : aucune commune actuelle/);
  await shot(page, '30-territoire-code-inconnu');
  await page.getByLabel('Ou collez des codes INSEE').fill('34146 34145 34151 34272');
  await page.getByRole('button', { name: 'Ajouter ces communes' }).click();
  await page.getByRole('img', { name: /Carte des 8 communes/ }).waitFor();
  const figures = await page.locator('.figures').textContent();
  assert.match(figures, /Communes\s*8/);
  assert.match(figures, /Taille ACI\s*[1-4]/);
  await shot(page, '31-territoire');
  assert.deepEqual(page.problems, []);
});
