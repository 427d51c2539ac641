// Browser journey of the messages: the coordinator sends the proposals; one GP has no e-mail, her request's
// page says "à appeler" with her phone, and the answer she gives on the phone is recorded; the GP who is
// logged in answers her own proposal in "Mes places" on her phone. No page scrolls sideways at 390 px.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);
const slug = 'camargue-gardoise';

test('a GP without an e-mail is called and her answer recorded; a logged-in GP answers in Mes places', async () => {
  const base = session.server.base;
  // The GP logged in on her phone: her name, as the directory has it.
  const gp = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(gp, base, accounts.member);
  await gp.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await gp.goto(`${base}/c/${slug}/ma-capacite`);
  const doctor = (await gp.locator('.lead').textContent()).match(/Dr ([^—]+?) —/)[1].trim();

  // The coordinator proposes two qualified requests by hand: one to her, one to another GP, and sends them.
  const coordinator = await newPage(session.browser);
  await login(coordinator, base, accounts.coordinator);
  await coordinator.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await coordinator.goto(`${base}/c/${slug}/medecin-traitant?etat=qualified`);
  const qualified = await coordinator.locator('main a[href*="/medecin-traitant/demandes/"]').evaluateAll(
    (anchors) => [...new Set(anchors.map((a) => a.getAttribute('href')))],
  );
  assert.ok(qualified.length >= 2, 'the demo has qualified requests');
  const [forHer, toCall] = qualified;
  for (const [href, ours] of [[forHer, true], [toCall, false]]) {
    await coordinator.goto(`${base}${href}`);
    const select = coordinator.getByLabel('Médecin', { exact: true });
    const options = await select.locator('option').evaluateAll((all) => all.map((o) => [o.value, o.textContent]));
    const [value] = options.find(([v, label]) => v && label.includes(doctor) === ours);
    await select.selectOption(value);
    await coordinator.getByRole('button', { name: 'Préparer la proposition' }).click();
  }
  await coordinator.goto(`${base}/c/${slug}/medecin-traitant/appariement`);
  await coordinator.getByRole('button', { name: /Envoyer les 2 proposition/ }).click();
  await coordinator.getByText('2 propositions envoyées aux médecins : 1 par e-mail, 1 sans adresse e-mail, à appeler', { exact: false }).waitFor();

  // The other GP has no e-mail: her request's page says so, with her phone, and the answer form is open.
  await coordinator.goto(`${base}${toCall}`);
  await coordinator.getByText("pas d'adresse : à appeler").first().waitFor();
  await shot(coordinator, '90-proposition-a-appeler');
  const answer = coordinator.locator('details.phone-answer').first();
  assert.equal(await answer.getAttribute('open'), '', 'the phone answer form is open when she must be called');
  // A refusal without its reason is named; nothing is recorded.
  await answer.getByLabel('Refuse').check();
  await answer.getByRole('button', { name: 'Enregistrer la réponse' }).click();
  await coordinator.getByText(/Raison du refus/).first().waitFor();
  await coordinator.goto(`${base}${toCall}`);
  const form = coordinator.locator('details.phone-answer').first();
  await form.getByLabel(/Accepte de devenir/).check();
  await form.getByRole('button', { name: 'Enregistrer la réponse' }).click();
  await coordinator.getByText('Réponse du médecin enregistrée.').waitFor();
  await coordinator.getByText(/État : Acceptée par le médecin/).waitFor();
  assert.match(await coordinator.locator('main').textContent(), /par téléphone/);
  await shot(coordinator, '91-reponse-par-telephone');
  const phoneView = await newPage(session.browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(phoneView, base, accounts.coordinator);
  await phoneView.goto(`${base}${toCall}`);
  await phoneView.getByRole('heading', { name: 'Propositions' }).waitFor();
  await noSidewaysScroll(phoneView, 'the request page');
  await shot(phoneView, '92-demande-telephone');

  // The GP on her phone answers her own proposal in "Mes places".
  await gp.goto(`${base}/c/${slug}/ma-capacite`);
  await gp.getByRole('heading', { name: 'Mes propositions' }).waitFor();
  await noSidewaysScroll(gp, 'Mes places');
  await shot(gp, '93-mes-places-propositions');
  await gp.getByRole('button', { name: "J'accepte ce patient" }).first().click();
  await gp.getByText(/vous acceptez ce patient/).waitFor();
  await noSidewaysScroll(gp, 'Mes places after the answer');
  await shot(gp, '94-mes-places-acceptee');
  await coordinator.goto(`${base}${forHer}`);
  await coordinator.getByText(/État : Acceptée par le médecin/).waitFor();
  assert.match(await coordinator.locator('main').textContent(), /dans « Mes places »/);
  // The coordinator's dashboard says what to do next; the GP's has her shortcuts.
  await coordinator.goto(`${base}/c/${slug}`);
  await coordinator.getByRole('heading', { name: 'À faire' }).waitFor();
  await coordinator.getByRole('link', { name: /par un médecin : prévenir le patient/ }).waitFor();
  await shot(coordinator, '95-tableau-a-faire');
  await gp.goto(`${base}/c/${slug}`);
  await gp.getByRole('navigation', { name: 'Mes raccourcis' }).getByRole('link', { name: 'Mes places' }).waitFor();
  await noSidewaysScroll(gp, 'the GP dashboard');
  await shot(gp, '96-tableau-medecin-telephone');
  assert.deepEqual(coordinator.problems, []);
  assert.deepEqual(phoneView.problems, []);
  assert.deepEqual(gp.problems, []);
});
