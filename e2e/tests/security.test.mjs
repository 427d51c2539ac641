// Browser journeys of the security core: second factor (enrolment, then login with a code), a secretary
// refused a coordinator-only page, the audit journal, a forgotten password, throttled logins.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, logout, newPage, shot, PASSWORD } from './harness.mjs';

const session = useMaillage(before, after);

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.replace(/[^A-Z2-7]/g, '')) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 code, as an authenticator app would show it, `stepsAhead` steps from now. */
function totp(secretBase32, stepsAhead = 0) {
  const counter = Math.floor(Date.now() / 1000 / 30) + stepsAhead;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac('sha1', base32Decode(secretBase32)).update(message).digest();
  const offset = digest[19] & 0x0f;
  const binary = ((digest[offset] & 0x7f) << 24) | (digest[offset + 1] << 16) | (digest[offset + 2] << 8) | digest[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

test('a coordinator turns on the second factor, then logs in with a code', async () => {
  const page = await newPage(session.browser);
  await login(page, session.server.base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${session.server.base}/compte`);
  await page.getByRole('link', { name: 'Gérer la double authentification' }).click();
  await page.getByRole('button', { name: "Commencer l'activation" }).click();
  const secret = (await page.locator('code.secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(await page.getByRole('img', { name: /QR code/ }).isVisible());
  await shot(page, '20-double-authentification-activation');

  await page.getByLabel('Code à 6 chiffres').fill('000000');
  await page.getByRole('button', { name: 'Activer' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByLabel('Code à 6 chiffres').fill(totp(secret));
  await page.getByRole('button', { name: 'Activer' }).click();
  // Recovery codes, shown once, for the day the phone is lost.
  await page.getByRole('heading', { name: 'Codes de secours' }).waitFor();
  const recovery = (await page.locator('.recovery-codes code').allTextContents()).map((c) => c.trim());
  assert.equal(recovery.length, 10);
  assert.match(recovery[0], /^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await shot(page, '20b-codes-de-secours');
  await page.getByRole('link', { name: "J'ai noté mes codes" }).click();
  await page.getByText('Double authentification : activée').waitFor();
  await page.getByText('10 codes de secours restants').waitFor();
  await logout(page);

  // A lost phone: a recovery code opens once.
  await login(page, session.server.base, accounts.coordinator);
  await page.getByRole('heading', { name: 'Code de vérification' }).waitFor();
  await page.getByLabel('Code à 6 chiffres ou code de secours').fill(recovery[0].toLowerCase());
  await page.getByRole('button', { name: 'Valider' }).click();
  await page.getByRole('heading', { name: 'Bonjour Claire Roussel' }).waitFor();
  await logout(page);

  await login(page, session.server.base, accounts.coordinator);
  await page.getByRole('heading', { name: 'Code de vérification' }).waitFor();
  await shot(page, '21-connexion-code');
  // The code just used to activate is spent: the app's next code is accepted.
  await page.getByLabel('Code à 6 chiffres').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Valider' }).click();
  await page.getByRole('heading', { name: 'Bonjour Claire Roussel' }).waitFor();
  assert.deepEqual(page.problems, []);
});

test('a secretary is refused the coordinator-only journal; the coordinator reads it', async () => {
  const secretary = await newPage(session.browser);
  await login(secretary, session.server.base, accounts.secretary);
  await secretary.getByRole('heading', { name: /Bonjour/ }).waitFor();
  const refused = await secretary.goto(`${session.server.base}/c/camargue-gardoise/journal`);
  assert.equal(refused.status(), 403);
  await secretary.getByRole('heading', { name: 'Accès refusé' }).waitFor();
  await shot(secretary, '22-secretariat-refuse-journal');

  const admin = await newPage(session.browser);
  await login(admin, session.server.base, accounts.admin);
  await admin.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await admin.goto(`${session.server.base}/admin/journal`);
  await admin.getByRole('heading', { name: "Journal d'audit" }).waitFor();
  await admin.getByLabel('Action').selectOption('login');
  await admin.getByRole('button', { name: 'Filtrer' }).click();
  await admin.getByRole('cell', { name: accounts.secretary }).first().waitFor();
  await shot(admin, '23-journal-plateforme');
});

test('a forgotten password is replaced through the e-mailed link', async () => {
  const page = await newPage(session.browser);
  await page.goto(`${session.server.base}/connexion`);
  await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
  await page.getByLabel('Adresse e-mail').fill(accounts.member);
  await page.getByRole('button', { name: 'Recevoir un lien' }).click();
  await page.getByText('Si un compte actif existe pour cette adresse').waitFor();

  // No SMTP server in the demo: the platform administrator reads the outbox.
  const admin = await newPage(session.browser);
  await login(admin, session.server.base, accounts.admin);
  await admin.getByRole('heading', { name: /Bonjour/ }).waitFor();
  let link;
  for (let i = 0; i < 30 && !link; i += 1) {
    await admin.goto(`${session.server.base}/admin/courriels`);
    const text = await admin.textContent('main');
    link = text.match(/http:\/\/\S+\/mot-de-passe\/[0-9a-f]{64}/)?.[0];
    if (!link) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(link, 'reset e-mail in the outbox');
  await shot(admin, '24-courriels-en-attente');

  await page.goto(link.replace(/^http:\/\/[^/]+/, session.server.base));
  await page.getByRole('textbox', { name: /^Nouveau mot de passe/ }).fill('un-nouveau-mot-de-passe');
  await page.getByLabel('Le même, une seconde fois').fill('un-autre-mot-de-passe');
  await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
  await page.getByText('Les deux mots de passe saisis sont différents.').waitFor();
  await shot(page, '25-nouveau-mot-de-passe-erreur');
  await page.getByRole('textbox', { name: /^Nouveau mot de passe/ }).fill('un-nouveau-mot-de-passe');
  await page.getByLabel('Le même, une seconde fois').fill('un-nouveau-mot-de-passe');
  await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
  await page.getByText('Votre mot de passe est enregistré : connectez-vous.').waitFor();
  await login(page, session.server.base, accounts.member, 'un-nouveau-mot-de-passe');
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
});

test('repeated wrong passwords are slowed down with a clear message', async () => {
  const page = await newPage(session.browser);
  for (let i = 0; i < 3; i += 1) {
    await login(page, session.server.base, accounts.partner, 'pas-le-bon-mot-de-passe');
    await page.getByText('Adresse e-mail ou mot de passe incorrect.').waitFor();
  }
  await login(page, session.server.base, accounts.partner, PASSWORD);
  await page.getByText(/Trop de tentatives\. Réessayez dans/).waitFor();
  await shot(page, '26-trop-de-tentatives');
});
