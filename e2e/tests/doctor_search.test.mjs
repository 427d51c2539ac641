// Browser journey of the médecin traitant mission: a patient's relative fills the public form (a malformed
// submission is refused with its fields named), the secretary qualifies that request and takes a phone call, the GP declares room in
// two clicks, the coordinator runs the matching and sends the proposals, the GP accepts through the e-mailed
// link, the request ends with a médecin traitant declared, and the indicators count it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot } from './harness.mjs';

const session = useMaillage(before, after);
const slug = 'camargue-gardoise';

test('a patient without a médecin traitant is found one, from the public form to the indicators', async () => {
  const base = session.server.base;

  // 1. The public form, on a phone: a malformed submission, then a good one.
  const phone = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(`${base}/demande-medecin/${slug}`);
  await phone.getByRole('heading', { name: 'Trouver un médecin traitant' }).waitFor();
  // The browser asks for the required fields itself; what it cannot judge, the server refuses by name.
  await phone.getByLabel('Nom', { exact: true }).fill('Essai-Public');
  await phone.getByLabel('Prénom').fill('Rose');
  await phone.getByLabel('Date de naissance (JJ/MM/AAAA)').fill('31/02/1950');
  await phone.getByLabel('Commune de résidence').selectOption({ label: 'Aigues-Mortes (30003)' });
  await phone.getByLabel('Téléphone').fill('12');
  await phone.getByRole('button', { name: 'Envoyer ma demande' }).click();
  const alert = phone.getByRole('alert');
  await alert.waitFor();
  const refused = await alert.textContent();
  for (const field of ['Date de naissance', 'Téléphone', 'Consentement']) {
    assert.match(refused, new RegExp(field), `${field} named`);
  }
  assert.equal(await phone.getByLabel('Nom', { exact: true }).inputValue(), 'Essai-Public', 'what was typed is kept');
  await shot(phone, '60-demande-publique-refusee');
  await phone.getByLabel('Date de naissance (JJ/MM/AAAA)').fill('14/07/1950');
  await phone.getByLabel('Téléphone').fill('06 12 34 56 78');
  await phone.getByLabel('Isolement').check();
  await phone.getByLabel('Je remplis ce formulaire').selectOption({ label: 'Par un proche' });
  await phone.getByLabel("J'accepte ce texte").check();
  await phone.getByRole('button', { name: 'Envoyer ma demande' }).click();
  await phone.getByText('Votre demande est envoyée.').waitFor();
  await shot(phone, '61-demande-publique-envoyee');
  assert.deepEqual(phone.problems, []);

  // 2. The secretary finds the public request in the list, reads it and qualifies it.
  const secretary = await newPage(session.browser);
  await login(secretary, base, accounts.secretary);
  await secretary.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await secretary.goto(`${base}/c/${slug}`);
  await secretary.getByRole('navigation', { name: 'Missions de la CPTS' }).getByRole('link', { name: 'Accès à un médecin traitant' }).click();
  await secretary.getByRole('heading', { name: 'Demandes de médecin traitant' }).waitFor();
  await shot(secretary, '62-demandes');
  const publicRow = secretary.getByRole('row').filter({ hasText: 'Formulaire public' }).filter({ hasText: 'isolement + 76 ans' });
  await publicRow.getByRole('link').click();
  await secretary.getByText('Essai-Public Rose').waitFor();
  assert.match(await secretary.locator('main').textContent(), /Donné par un proche/);
  await secretary.getByLabel('Nouvel état').selectOption({ label: 'Qualifiée' });
  await secretary.getByRole('button', { name: 'Enregistrer' }).click();
  await secretary.getByText(/État : Qualifiée/).waitFor();
  const requestUrl = secretary.url();

  // 3. The secretary also takes a phone call from a pharmacy.
  await secretary.getByRole('link', { name: 'Nouvelle demande', exact: true }).first().click();
  await secretary.getByLabel('Canal').selectOption({ label: 'Appel téléphonique' });
  await secretary.getByLabel(/Adressé par/).fill('Pharmacie des Remparts');
  await secretary.getByLabel('Nom', { exact: true }).fill('Essai-Appel');
  await secretary.getByLabel('Prénom').fill('Baptistine');
  await secretary.getByLabel('Date de naissance (JJ/MM/AAAA)').fill('03/05/1931');
  await secretary.getByLabel('Commune de résidence').selectOption({ label: 'Aigues-Mortes (30003)' });
  await secretary.getByLabel('Téléphone').fill('04 66 00 11 22');
  await secretary.getByLabel('Affection de longue durée (ALD)').check();
  await secretary.getByLabel('Perte d\'autonomie').check();
  await secretary.getByLabel(/J'ai lu ce texte au patient/).check();
  await secretary.getByRole('button', { name: 'Enregistrer' }).click();
  await secretary.getByText('Demande enregistrée.').waitFor();
  const lead = await secretary.locator('.lead').first().textContent();
  assert.match(lead, /ALD \+ perte d'autonomie \+ 95 ans/);
  await shot(secretary, '63-demande-par-telephone');
  assert.deepEqual(secretary.problems, []);

  // 4. The GP declares room now in two clicks (menu, then a number), on a phone.
  const gp = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(gp, base, accounts.member);
  await gp.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await gp.goto(`${base}/c/${slug}/ma-capacite`);
  const doctor = (await gp.locator('.lead').textContent()).match(/Dr ([^—]+?) —/)[1].trim();
  await gp.getByRole('button', { name: '5', exact: true }).click();
  await gp.getByText('Merci, c\'est enregistré.').waitFor();
  assert.match(await gp.locator('main').textContent(), /Aujourd'hui : 5 places maintenant/);
  await shot(gp, '64-ma-capacite');

  // 5. The coordinator runs the matching, gives the public request to that GP, and sends the proposals.
  const coordinator = await newPage(session.browser);
  await login(coordinator, base, accounts.coordinator);
  await coordinator.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await coordinator.goto(`${base}/c/${slug}/medecin-traitant/appariement`);
  await coordinator.getByRole('button', { name: "Lancer l'appariement" }).click();
  await coordinator.getByText(/propositions? à revoir/).waitFor();
  await shot(coordinator, '65-appariement');
  const ours = coordinator.getByRole('row').filter({ hasText: '76 ans' });
  if (await ours.count() === 0) {
    // The matching left it out (every place taken by higher priorities): propose it by hand.
    await coordinator.goto(requestUrl);
    await coordinator.getByLabel('Médecin').selectOption({ label: new RegExp(doctor) });
    await coordinator.getByRole('button', { name: 'Préparer la proposition' }).click();
  } else {
    const choice = ours.getByRole('combobox');
    const option = await choice.locator('option', { hasText: doctor }).first().getAttribute('value');
    await choice.selectOption(option);
    await ours.getByRole('button', { name: 'Appliquer' }).click();
  }
  await coordinator.getByRole('row').filter({ hasText: '76 ans' }).filter({ hasText: doctor }).waitFor();
  await coordinator.getByRole('button', { name: /Envoyer (les \d+ propositions|la proposition)/ }).click();
  await coordinator.getByText(/propositions? envoyées? aux médecins/).waitFor();
  assert.deepEqual(coordinator.problems, []);

  // 6. No SMTP server in the demo: the platform administrator's outbox holds the GP's e-mails.
  const admin = await newPage(session.browser);
  await login(admin, base, accounts.admin);
  await admin.getByRole('heading', { name: /Bonjour/ }).waitFor();
  let links = [];
  for (let i = 0; i < 30 && links.length === 0; i += 1) {
    await admin.goto(`${base}/admin/courriels`);
    links = [...(await admin.textContent('main')).matchAll(/http:\/\/\S+?\/proposition\/[0-9a-f]{64}/g)].map((m) => m[0]);
    if (links.length === 0) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(links.length > 0, 'proposal e-mail in the outbox');
  assert.doesNotMatch(await admin.textContent('main'), /Essai-Public|isolement|ALD/, 'no health data in e-mails');

  // 7. The GP opens the link of that patient and accepts in one click.
  let accepted = false;
  for (const link of links) {
    await gp.goto(link.replace(/^http:\/\/[^/]+/, base));
    const text = await gp.locator('main').textContent();
    if (/76 ans/.test(text) && /J'accepte ce patient/.test(text)) {
      assert.match(text, /isolement \+ 76 ans/);
      assert.doesNotMatch(text, /Essai-Public/);
      await shot(gp, '66-proposition-au-medecin');
      await gp.getByRole('button', { name: "J'accepte ce patient" }).click();
      await gp.getByText('Merci, votre réponse est enregistrée.').waitFor();
      accepted = true;
      break;
    }
  }
  assert.ok(accepted, 'the proposal of our patient reached the GP');
  assert.deepEqual(gp.problems, []);

  // 8. First visit done, médecin traitant declared; the indicators count it.
  await coordinator.goto(requestUrl);
  await coordinator.getByText(/État : Acceptée par le médecin/).waitFor();
  for (const next of ['Première consultation faite', 'Close : médecin traitant déclaré']) {
    await coordinator.getByLabel('Nouvel état').selectOption({ label: next });
    await coordinator.getByRole('button', { name: 'Enregistrer' }).first().click();
    await coordinator.getByText(new RegExp(`État : ${next}`)).waitFor();
  }
  await shot(coordinator, '67-demande-close');
  await coordinator.getByRole('navigation', { name: 'Missions de la CPTS' }).getByRole('link', { name: 'Accès à un médecin traitant' }).click();
  await coordinator.getByRole('navigation', { name: 'Accès à un médecin traitant' }).getByRole('link', { name: 'Indicateurs' }).click();
  const found = coordinator.getByRole('row', { name: /Patients ayant trouvé un médecin traitant/ });
  assert.match(await found.textContent(), /[1-9]/);
  assert.match(await coordinator.getByRole('row', { name: /… dont âgés de 70 ans et plus/ }).textContent(), /[1-9]/);
  await coordinator.getByRole('img', { name: 'Demandes par canal' }).waitFor();
  await shot(coordinator, '68-indicateurs-medecin-traitant');
  assert.deepEqual(coordinator.problems, []);
});
