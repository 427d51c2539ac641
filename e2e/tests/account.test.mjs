// Browser journey of "Mon compte" on a phone: the open sessions, then a change of password that asks the
// current one (a wrong one is named and focused) and keeps this session open.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);

test('a GP changes her password from Mon compte on her phone', async () => {
  const base = session.server.base;
  const phone = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(phone, base, accounts.member);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/compte`);
  await phone.getByText('Cette session').waitFor();
  await noSidewaysScroll(phone, 'Mon compte');
  await shot(phone, '95-mon-compte-telephone');
  await phone.getByRole('link', { name: 'Changer mon mot de passe' }).click();
  await phone.getByLabel('Mot de passe actuel').fill('pas-le-bon-mot-de-passe');
  await phone.getByLabel('Nouveau mot de passe').fill('fabre-nouveau-2026');
  await phone.getByLabel('Le même mot de passe, encore').fill('fabre-nouveau-2026');
  await phone.getByRole('button', { name: 'Changer le mot de passe' }).click();
  await phone.getByRole('alert').getByText(/Mot de passe actuel/).waitFor();
  assert.equal(await phone.evaluate(() => document.activeElement.id), 'current');
  await shot(phone, '96-mot-de-passe-erreur-telephone');
  await phone.getByLabel('Mot de passe actuel').fill('demo-maillage-2026');
  await phone.getByLabel('Nouveau mot de passe').fill('fabre-nouveau-2026');
  await phone.getByLabel('Le même mot de passe, encore').fill('fabre-nouveau-2026');
  await phone.getByRole('button', { name: 'Changer le mot de passe' }).click();
  await phone.getByText('Mot de passe changé ; vos autres sessions sont fermées.').waitFor();
  await noSidewaysScroll(phone, 'Mon compte after the change');
  assert.deepEqual(phone.problems, []);
});
