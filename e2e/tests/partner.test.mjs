// Browser journey of a partner on her phone: the DAC opens "Mes adressages", finds her patient by name, reads
// where the request is, adds information for the coordination; no page scrolls sideways at 390 px.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);

test('the DAC follows her referral on her phone and adds information', async () => {
  const base = session.server.base;
  const phone = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(phone, base, accounts.partner);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/camargue-gardoise/medecin-traitant/adressages`);
  await phone.getByRole('heading', { name: 'Mes adressages' }).waitFor();
  await noSidewaysScroll(phone, 'her referrals');
  await shot(phone, '90-mes-adressages-telephone');
  await phone.getByRole('link', { name: /PÉLISSIER Odette/ }).click();
  await phone.getByRole('heading', { name: 'Mon adressage' }).waitFor();
  await phone.getByText('Demande reçue par la CPTS').waitFor();
  // Written, it is transmitted and shown in the history.
  await phone.getByLabel('Information').fill('Sa fille est joignable le soir au 06 00 00 00 01.');
  await phone.getByRole('button', { name: 'Transmettre' }).click();
  await phone.getByText('Information transmise à la coordination de la CPTS.').waitFor();
  await phone.getByText('Information ajoutée par le partenaire').first().waitFor();
  await noSidewaysScroll(phone, 'her referral');
  await shot(phone, '91-adressage-information-telephone');
  assert.deepEqual(phone.problems, []);
});
