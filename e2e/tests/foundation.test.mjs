// Browser journeys of the foundation: home, login (wrong then right password), a page refused to an
// anonymous visitor, a role refused, the French error page, CPTS creation, mobile layout, logout.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, logout, newPage, shot } from './harness.mjs';

const session = useMaillage(before, after);

test('the home page presents Maillage in French to an anonymous visitor', async () => {
  const page = await newPage(session.browser);
  await page.goto(session.server.base);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await page.getByRole('heading', { name: 'Maillage, la plateforme de votre CPTS' }).waitFor();
  assert.ok(await page.getByRole('link', { name: 'Se connecter' }).first().isVisible());
  await shot(page, '01-accueil');
  assert.deepEqual(page.problems, []);
});

test('a wrong password is refused with a clear message, the right one opens the CPTS', async () => {
  const page = await newPage(session.browser);
  await login(page, session.server.base, accounts.coordinator, 'pas-le-bon-mot-de-passe');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /Adresse e-mail ou mot de passe incorrect/);
  assert.equal(await page.getByLabel('Adresse e-mail').inputValue(), accounts.coordinator);
  await shot(page, '02-connexion-refusee');

  await page.getByLabel('Mot de passe').fill('demo-maillage-2026');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('heading', { name: 'Bonjour Claire Roussel' }).waitFor();
  await page.getByRole('link', { name: 'CPTS Camargue Gardoise (démo)' }).click();
  await page.getByRole('heading', { level: 1, name: 'CPTS Camargue Gardoise (démo)' }).waitFor();
  const nav = page.getByRole('navigation', { name: 'Missions de la CPTS' });
  for (const mission of ['Accès à un médecin traitant', 'Soins non programmés et SAS', 'Parcours de soins', 'Crise sanitaire']) {
    assert.ok(await nav.getByRole('link', { name: new RegExp(mission) }).isVisible(), mission);
  }
  await shot(page, '03-tableau-de-bord-coordination');

  await nav.getByRole('link', { name: /Crise sanitaire/ }).click();
  await page.getByText('Ce module de Maillage est en préparation').waitFor();
  await nav.getByRole('link', { name: 'Membres et rôles' }).click();
  await page.getByRole('cell', { name: 'secretariat@camargue.test' }).waitFor();
  await shot(page, '04-membres');
  await logout(page);
  await page.getByText('Vous êtes déconnecté.').waitFor();
  await shot(page, '05-deconnecte');
  assert.deepEqual(page.problems, []);
});

test('an anonymous visitor is sent to the login form and comes back afterwards', async () => {
  const page = await newPage(session.browser);
  await page.goto(`${session.server.base}/c/camargue-gardoise/membres`);
  assert.match(page.url(), /\/connexion\?suite=/);
  await page.getByRole('heading', { name: 'Connexion' }).waitFor();
  await shot(page, '06-page-refusee-anonyme');
  await page.getByLabel('Adresse e-mail').fill(accounts.secretary);
  await page.getByLabel('Mot de passe').fill('demo-maillage-2026');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('heading', { name: 'Membres et rôles' }).waitFor();
  assert.ok(page.url().endsWith('/c/camargue-gardoise/membres'));
});

test('a partner is refused the member directory, and another CPTS stays closed', async () => {
  const page = await newPage(session.browser);
  await login(page, session.server.base, accounts.partner);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  const refused = await page.goto(`${session.server.base}/c/camargue-gardoise/membres`);
  assert.equal(refused.status(), 403);
  await page.getByRole('heading', { name: 'Accès refusé' }).waitFor();
  await shot(page, '07-role-refuse');
  const other = await page.goto(`${session.server.base}/c/vidourle`);
  assert.equal(other.status(), 403);
  assert.match(await page.textContent('main'), /aucun rôle dans cette CPTS/);
});

test('an unknown address shows the French error page with a request id', async () => {
  const page = await newPage(session.browser);
  const answer = await page.goto(`${session.server.base}/adresse-inconnue`);
  assert.equal(answer.status(), 404);
  await page.getByRole('heading', { name: 'Page introuvable' }).waitFor();
  const id = answer.headers()['x-request-id'];
  assert.ok(id && (await page.textContent('main')).includes(id));
  await shot(page, '08-erreur-404');
});

test('the platform administrator creates a CPTS; a bad FINESS is named', async () => {
  const page = await newPage(session.browser);
  await login(page, session.server.base, accounts.admin);
  await page.getByRole('navigation', { name: 'Compte' }).getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('link', { name: 'CPTS', exact: true }).click();
  await page.getByLabel('Nom de la CPTS').fill('CPTS Petite Camargue');
  await page.getByLabel(/FINESS/).fill('300009991');
  await page.getByRole('button', { name: 'Créer la CPTS' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /FINESS : « 300009991 » : la clé de contrôle \(Luhn\) est fausse/);
  await shot(page, '09-creation-cpts-erreur');
  // The demo CPTS's FINESS is its own: a second CPTS cannot take it.
  await page.getByLabel(/FINESS/).fill('300009990');
  await page.getByRole('button', { name: 'Créer la CPTS' }).click();
  await page.getByRole('alert').getByText(/FINESS : « 300009990 » est déjà celui d.une autre CPTS/).waitFor();
  await page.getByLabel(/FINESS/).fill('300017779');
  await page.getByRole('button', { name: 'Créer la CPTS' }).click();
  await page.getByText('La CPTS « CPTS Petite Camargue » est créée.').waitFor();
  await page.getByRole('cell', { name: 'CPTS Petite Camargue' }).waitFor();
  await shot(page, '10-creation-cpts');
  await page.goto(`${session.server.base}/admin/courriels`);
  await page.getByRole('heading', { name: 'Courriels en attente' }).waitFor();
  assert.deepEqual(page.problems, []);
});

test('pages work on a phone and can be used with the keyboard', async () => {
  const page = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await login(page, session.server.base, accounts.member);
  await page.goto(`${session.server.base}/c/camargue-gardoise`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page wider than the phone by ${overflow}px`);
  await shot(page, '11-telephone-tableau-de-bord');
  await page.goto(`${session.server.base}/connexion`);
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.equal(first, 'Aller au contenu');
});
