// Browser journey of the team: the coordinator invites a GP from the members page (desktop), the GP opens the
// e-mailed link on her phone, sets her password and enters; no page of the journey scrolls sideways at 390 px.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);

test('a coordinator invites a GP, who sets her password on her phone and enters', async () => {
  const base = session.server.base;
  const coordinator = await newPage(session.browser);
  await login(coordinator, base, accounts.coordinator);
  await coordinator.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await coordinator.goto(`${base}/c/camargue-gardoise/membres`);
  await coordinator.getByRole('heading', { name: 'Inviter une personne' }).waitFor();
  // Nothing chosen for her: sending without a role names the field.
  await coordinator.getByLabel('Adresse e-mail').fill('dr.invitee@camargue.test');
  await coordinator.getByLabel('Nom et prénom').fill('Dr Inès Invitée');
  await coordinator.getByRole('button', { name: "Envoyer l'invitation" }).click();
  await coordinator.getByRole('alert').getByText(/Rôle/).waitFor();
  await coordinator.getByLabel('Rôle', { exact: true }).selectOption('member');
  await coordinator.getByRole('button', { name: "Envoyer l'invitation" }).click();
  await coordinator.getByText('Invitation enregistrée').waitFor();
  await coordinator.getByText('dr.invitee@camargue.test').first().waitFor();
  // What became of its e-mail is shown beside it.
  await coordinator.getByText(/courriel : (envoyé|en file d'envoi|envoi en cours)/).first().waitFor();
  await shot(coordinator, '60-membres-invitation');

  // No SMTP server in the demo: the platform administrator's outbox shows the demo's links.
  const admin = await newPage(session.browser);
  await login(admin, base, accounts.admin);
  await admin.getByRole('heading', { name: /Bonjour/ }).waitFor();
  let link;
  for (let i = 0; i < 30 && !link; i += 1) {
    await admin.goto(`${base}/admin/courriels`);
    link = (await admin.textContent('main')).match(/http:\/\/\S+\/invitation\/[0-9a-f]{64}/)?.[0];
    if (!link) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(link, 'invitation e-mail in the outbox');

  const phone = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(link.replace(/^http:\/\/[^/]+/, base));
  await phone.getByRole('heading', { name: /Rejoindre/ }).waitFor();
  await noSidewaysScroll(phone, 'the invitation page');
  await shot(phone, '61-invitation-telephone');
  await phone.getByLabel('Mot de passe', { exact: true }).fill('ines-invitee-2026');
  await phone.getByLabel('Le même mot de passe, encore').fill('ines-invitee-2026');
  await phone.getByRole('button', { name: 'Rejoindre la CPTS' }).click();
  await phone.getByText('Votre mot de passe est enregistré').waitFor();
  await login(phone, base, 'dr.invitee@camargue.test', 'ines-invitee-2026');
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await noSidewaysScroll(phone, 'her first page');
  await shot(phone, '62-premiere-connexion-telephone');
  // The link served once.
  await phone.goto(link.replace(/^http:\/\/[^/]+/, base));
  await phone.getByRole('heading', { name: 'Invitation expirée' }).waitFor();

  // Back on the members page, she is a member.
  await coordinator.goto(`${base}/c/camargue-gardoise/membres`);
  await coordinator.getByRole('cell', { name: 'Dr Inès Invitée', exact: true }).waitFor();

  // She leaves the CPTS: the coordinator, on her phone, suspends her access after a confirmation page whose
  // first button goes back; the GP's next page is refused, and the access comes back in one click.
  const desk = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(desk, base, accounts.coordinator);
  await desk.getByRole('heading', { name: /Bonjour/ }).waitFor();
  // On a phone the missions fold into one line: she opens the menu to reach the members page.
  await desk.goto(`${base}/c/camargue-gardoise`);
  const membersLink = desk.getByRole('link', { name: 'Membres et rôles' });
  assert.equal(await membersLink.isVisible(), false, 'the menu starts folded on a phone');
  await desk.getByText('Menu de la CPTS').click();
  await membersLink.click();
  await desk.getByRole('heading', { name: 'Membres et rôles' }).waitFor();
  await noSidewaysScroll(desk, 'the members page');
  await desk.getByRole('button', { name: "Suspendre l'accès de Dr Inès Invitée" }).click();
  await desk.getByRole('heading', { name: "Suspendre l'accès de cette personne à la CPTS ?" }).waitFor();
  await noSidewaysScroll(desk, 'the confirmation page');
  await shot(desk, '63-suspendre-confirmation-telephone');
  await desk.getByRole('button', { name: "Oui, suspendre l'accès" }).click();
  await desk.getByText('Accès suspendu : la personne ne voit plus rien').waitFor();
  await shot(desk, '64-acces-suspendu-telephone');
  assert.deepEqual(phone.problems, []);
  const refused = await phone.goto(`${base}/c/camargue-gardoise`);
  assert.ok(refused.status() === 403 || refused.status() === 404, `status ${refused.status()}`);
  await desk.getByRole('button', { name: "Rétablir l'accès de Dr Inès Invitée" }).click();
  await desk.getByText('Accès rétabli.').waitFor();
  const back = await phone.goto(`${base}/c/camargue-gardoise`);
  assert.equal(back.status(), 200);
  // The directory's members with an e-mail, invited in one go after a confirmation; the report says who
  // could not be (no e-mail in their record: to call).
  await coordinator.goto(`${base}/c/camargue-gardoise/membres`);
  await coordinator.getByRole('button', { name: "Inviter les membres de l'annuaire…" }).click();
  await coordinator.getByRole('heading', { name: "Inviter les membres de l'annuaire ?" }).waitFor();
  await coordinator.getByRole('button', { name: 'Oui, inviter les membres' }).click();
  await coordinator.getByRole('heading', { name: "Invitations des membres de l'annuaire" }).waitFor();
  await coordinator.getByText(/invitations? enregistrées?/).waitFor();
  await shot(coordinator, '65-invitations-annuaire');
  assert.deepEqual(coordinator.problems, []);
  assert.deepEqual(desk.problems, []);
});

test('the coordinator asks for the morning digest of the GPs answers, on her phone and at her desk', async () => {
  const base = session.server.base;
  for (const [name, options] of [['telephone', { viewport: { width: 390, height: 844 }, isMobile: true }], ['bureau', {}]]) {
    const page = await newPage(session.browser, options);
    await login(page, base, accounts.coordinator);
    await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
    await page.goto(`${base}/c/camargue-gardoise/parametres`);
    const digest = page.getByLabel('Envoyer chaque matin à la coordination un courriel récapitulant les réponses des médecins aux propositions');
    if (name === 'telephone') {
      assert.equal(await digest.isChecked(), false, 'off until asked');
      await digest.check();
    } else {
      assert.equal(await digest.isChecked(), true, 'kept from the phone');
    }
    await noSidewaysScroll(page, 'the settings page');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Paramètres enregistrés.').waitFor();
    assert.equal(await digest.isChecked(), true);
    await shot(page, `64-parametres-recapitulatif-${name}`);
    assert.deepEqual(page.problems, []);
  }
});
