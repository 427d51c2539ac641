// Browser journeys of patients in care pathways: the coordinator includes a heart-failure patient with a
// discharge date and sees the windows; the nurse of the care team finds him on her phone and closes her
// step; the late step of the demo's patient is on the nurse's and the coordinator's dashboards; the nurse
// fills an ICOPE screening with a positive domain and the GP's assessment appears; a GP outside the care
// team is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accounts, useMaillage, login, newPage, shot, noSidewaysScroll } from './harness.mjs';

const session = useMaillage(before, after);
const slug = 'camargue-gardoise';
const phoneSize = { viewport: { width: 390, height: 844 }, isMobile: true };

function parisDay(offsetDays) {
  const day = new Date(Date.now() + offsetDays * 86_400_000);
  const [d, m, y] = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: '2-digit', month: '2-digit', year: 'numeric' })
    .format(day).split('/');
  return `${d}/${m}/${y}`;
}

test('a patient is included, the nurse closes her step on her phone, a screening adds the GP step, outsiders are refused', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();

  // The demo's heart-failure patient left hospital ten days ago: his nurse's step is late.
  await page.goto(`${base}/c/${slug}`);
  await page.getByRole('link', { name: /étapes? de parcours de soins en retard/ }).click();
  await page.getByRole('heading', { name: 'Patients en parcours', level: 1 }).waitFor();
  await page.getByText('EXEMPLE-CARDIO Marcel').waitFor();
  await shot(page, '83-parcours-patients');

  // Include a patient: the form refuses without consent, naming it, and keeps what was typed.
  await page.getByRole('navigation', { name: 'Parcours de soins' }).getByRole('link', { name: 'Inclure un patient' }).click();
  await page.getByLabel('Parcours', { exact: true }).selectOption({ label: 'Insuffisance cardiaque après hospitalisation' });
  await page.getByRole('button', { name: 'Choisir ce parcours' }).click();
  await page.getByLabel('Nom', { exact: true }).fill('EXEMPLE-NAVIGATEUR');
  await page.getByLabel('Prénom').fill('Lucien');
  await page.getByLabel('Date de naissance (JJ/MM/AAAA)').fill('12/03/1941');
  const discharge = parisDay(-2);
  await page.getByLabel(/Sortie d'hospitalisation — jour 0/).fill(discharge);
  await page.getByLabel('Infirmier ou infirmière').selectOption({ index: 1 });
  await page.getByRole('button', { name: 'Inclure le patient' }).click();
  assert.match(await page.getByRole('alert').textContent(), /Consentement/);
  assert.equal(await page.getByLabel('Nom', { exact: true }).inputValue(), 'EXEMPLE-NAVIGATEUR');
  await page.getByLabel(/Le patient a accepté/).check();
  await page.getByRole('button', { name: 'Inclure le patient' }).click();
  await page.getByText('Le patient est inclus').waitFor();
  const patientUrl = page.url().split('?')[0];
  const [d, m, y] = discharge.split('/');
  const d8 = new Date(Date.UTC(+y, +m - 1, +d + 8));
  const d8Text = `${String(d8.getUTCDate()).padStart(2, '0')}/${String(d8.getUTCMonth() + 1).padStart(2, '0')}/${d8.getUTCFullYear()}`;
  const nurseStep = page.locator('li.card').filter({ hasText: "Visite de l'infirmier" });
  assert.match(await nurseStep.textContent(), new RegExp(`du ${discharge} au ${d8Text}`));
  await shot(page, '84-parcours-dossier');
  assert.deepEqual(page.problems, []);

  // The nurse, on her phone: her dashboard tells of her late step; her list holds the new patient.
  const phone = await newPage(session.browser, phoneSize);
  await login(phone, base, accounts.nurse);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/${slug}`);
  await phone.getByRole('link', { name: /de vos patients en parcours en retard/ }).waitFor();
  await noSidewaysScroll(phone, 'the nurse dashboard');
  await shot(phone, '85-parcours-tableau-de-bord-infirmiere');
  await phone.getByRole('link', { name: /de vos patients en parcours en retard/ }).click();
  await phone.getByRole('heading', { name: 'Mes patients en parcours', level: 1 }).waitFor();
  await noSidewaysScroll(phone, 'mes patients en parcours');
  await phone.getByRole('link', { name: 'EXEMPLE-NAVIGATEUR Lucien' }).click();
  await phone.locator('li.card').filter({ hasText: "Visite de l'infirmier" }).getByRole('link', { name: "Clore ou annuler l'étape" }).click();
  await phone.getByRole('heading', { name: "Visite de l'infirmier", level: 1 }).waitFor();
  await noSidewaysScroll(phone, 'closing a step');
  await phone.getByRole('button', { name: "Clore l'étape" }).click();
  assert.match(await phone.getByRole('alert').textContent(), /Preuve/);
  await phone.getByLabel(/je l'atteste/).check();
  await shot(phone, '86-parcours-clore-etape-telephone');
  await phone.getByRole('button', { name: "Clore l'étape" }).click();
  await phone.getByText("L'étape est enregistrée.").waitFor();
  assert.match(await phone.locator('li.card').filter({ hasText: "Visite de l'infirmier" }).textContent(), /Faite le/);
  await noSidewaysScroll(phone, 'the patient record');
  await shot(phone, '87-parcours-dossier-telephone');

  // An ICOPE screening of the demo's frail patient: two words of three recalled, cognition positive.
  await phone.goto(`${base}/c/${slug}/parcours/patients`);
  await phone.getByRole('link', { name: 'EXEMPLE-FRAGILE Odette' }).click();
  await phone.locator('li.card').filter({ hasText: 'Repérage ICOPE étape 1' }).first().getByRole('link', { name: "Clore ou annuler l'étape" }).click();
  await phone.getByLabel('1. Cognition : mots rappelés sur 3').selectOption('2');
  await phone.getByLabel(/2\. Cognition : orientation/).selectOption({ label: 'Oui' });
  await phone.getByLabel(/3\. Mobilité/).fill('12');
  for (const n of [4, 5, 6, 7, 8, 9]) {
    await phone.getByLabel(new RegExp(`^${n}\\. `)).selectOption({ label: 'Non' });
  }
  await noSidewaysScroll(phone, 'an ICOPE screening');
  await shot(phone, '88-parcours-icope-telephone');
  await phone.getByRole('button', { name: "Clore l'étape" }).click();
  await phone.getByText("L'étape est enregistrée.").waitFor();
  await phone.getByText(/^Résultat : .*positif : cognition/).waitFor();
  const assessment = phone.locator('li.card').filter({ hasText: 'Évaluation approfondie ICOPE étape 2' });
  assert.match(await assessment.textContent(), /Médecin traitant/);
  assert.match(await assessment.textContent(), /ajoutée après un résultat/);
  await shot(phone, '89-parcours-icope-declenche');
  assert.deepEqual(phone.problems, []);

  // A GP outside the new patient's care team: not found.
  const gp = await newPage(session.browser, phoneSize);
  await login(gp, base, accounts.member);
  await gp.getByRole('heading', { name: /Bonjour/ }).waitFor();
  const refused = await gp.goto(patientUrl);
  assert.equal(refused.status(), 404);
  await shot(gp, '90-parcours-hors-equipe');
});

test('the coordinator reads the pathway indicators on a computer and on a phone', async () => {
  const base = session.server.base;
  for (const [size, name] of [[{}, '91-parcours-indicateurs'], [phoneSize, '92-parcours-indicateurs-telephone']]) {
    const page = await newPage(session.browser, size);
    await login(page, base, accounts.coordinator);
    await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
    await page.goto(`${base}/c/${slug}/parcours/patients`);
    await page.getByRole('navigation', { name: 'Parcours de soins' }).getByRole('link', { name: 'Indicateurs' }).click();
    await page.getByRole('heading', { name: 'Indicateurs — parcours de soins', level: 1 }).waitFor();
    await page.getByRole('rowheader', { name: 'Patients inclus, tous parcours' }).waitFor();
    if (size.isMobile) await noSidewaysScroll(page, 'the pathway indicators');
    await shot(page, name);
    assert.deepEqual(page.problems, []);
  }
});

test('the coordinator creates a waiting list, puts a child on it from the record and reads the wait on a phone', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}/parcours/patients`);
  await page.getByRole('navigation', { name: 'Parcours de soins' }).getByRole('link', { name: "Listes d'attente" }).click();
  await page.getByRole('button', { name: 'Créer la liste' }).click();
  await page.getByLabel('Nom de la liste').fill('Bilan TND (plateforme PCO)');
  await page.getByRole('button', { name: 'Créer la liste' }).click();
  await page.getByRole('heading', { name: 'Bilan TND (plateforme PCO)', level: 1 }).waitFor();
  await page.goto(`${base}/c/${slug}/parcours/patients`);
  await page.getByRole('link', { name: 'EXEMPLE-FRAGILE Odette' }).click();
  await page.getByText("Inscrire sur une liste d'attente").click();
  await page.getByLabel("Liste d'attente", { exact: true }).selectOption({ label: 'Bilan TND (plateforme PCO)' });
  await page.getByLabel("Date d'adressage (JJ/MM/AAAA)").fill(parisDay(-12));
  await page.getByLabel('Priorité').selectOption({ label: 'Haute' });
  await page.getByRole('button', { name: 'Inscrire sur la liste' }).click();
  await page.getByText("Le patient est inscrit sur la liste d'attente.").waitFor();
  await page.getByText(/1er sur la liste, 12 jours d'attente/).waitFor();
  await shot(page, '93-parcours-liste-dossier');
  assert.deepEqual(page.problems, []);

  const phone = await newPage(session.browser, phoneSize);
  await login(phone, base, accounts.coordinator);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/${slug}/parcours/listes`);
  await phone.getByRole('link', { name: 'Bilan TND (plateforme PCO)' }).click();
  await phone.getByText('12 jours d\'attente').waitFor();
  await noSidewaysScroll(phone, 'a waiting list');
  await shot(phone, '94-parcours-liste-telephone');
  assert.deepEqual(phone.problems, []);
});

test('the coordinator records a liaison sheet that closes its step and prints it on A4', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}/parcours/patients`);
  await page.getByRole('link', { name: 'EXEMPLE-FRAGILE Odette' }).click();
  await page.locator('li.card').filter({ hasText: "Lien avec l'EHPAD" }).getByRole('link', { name: "Clore ou annuler l'étape" }).click();
  await page.getByRole('link', { name: 'Remplir la fiche de liaison' }).click();
  await page.getByRole('button', { name: "Enregistrer la fiche et clore l'étape" }).click();
  // The browser asks for the required fields first; the server names them too when they come empty.
  await page.getByLabel('Sens').selectOption({ label: "Envoyée à l'hôpital" });
  await page.getByLabel('Établissement et service').fill('EHPAD Les Tamaris, accueil de jour');
  await page.getByLabel("Motif de l'hospitalisation").fill('Chute à domicile, accueil de jour demandé');
  await page.getByLabel('Suivi à organiser').fill('Kinésithérapie deux fois par semaine');
  await page.getByRole('button', { name: "Enregistrer la fiche et clore l'étape" }).click();
  await page.getByRole('heading', { name: 'Fiche de liaison ville–hôpital', level: 1 }).waitFor();
  await page.getByText('Kinésithérapie deux fois par semaine').waitFor();
  await shot(page, '95-parcours-fiche-liaison');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.site-header').isVisible(), false);
  await shot(page, '96-parcours-fiche-liaison-impression');
  await page.emulateMedia({ media: 'screen' });
  await page.getByRole('link', { name: /EXEMPLE-FRAGILE Odette/ }).click();
  assert.match(await page.locator('li.card').filter({ hasText: "Lien avec l'EHPAD" }).textContent(), /Faite le/);
  assert.deepEqual(page.problems, []);

  const phone = await newPage(session.browser, phoneSize);
  await login(phone, base, accounts.coordinator);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(page.url());
  await phone.getByRole('link', { name: /Envoyée à l'hôpital le/ }).click();
  await phone.getByText('Kinésithérapie deux fois par semaine').waitFor();
  await noSidewaysScroll(phone, 'a liaison sheet');
  await shot(phone, '97-parcours-fiche-liaison-telephone');
});

test('the coordinator holds a case meeting: attendance, a patient presented, a decision with its follow-up step', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}/parcours/patients`);
  await page.getByRole('navigation', { name: 'Parcours de soins' }).getByRole('link', { name: 'Réunions (RCP)' }).click();
  await page.getByLabel('Titre').fill('RCP du mois');
  await page.getByLabel('Date (JJ/MM/AAAA)').fill(parisDay(0));
  await page.getByLabel('Heure (HH:MM)').fill('midi');
  await page.getByLabel('Lieu').fill('Maison de santé d\'Aigues-Mortes');
  const attendees = page.locator('input[name="attendee"]');
  await attendees.nth(0).check();
  await attendees.nth(1).check();
  await page.getByRole('button', { name: 'Planifier la réunion' }).click();
  assert.match(await page.getByRole('alert').textContent(), /Heure/);
  await page.getByLabel('Heure (HH:MM)').fill('12:30');
  await page.getByRole('button', { name: 'Planifier la réunion' }).click();
  await page.getByRole('heading', { name: 'RCP du mois', level: 1 }).waitFor();
  const first = () => page.locator('li.card').filter({ has: page.getByLabel(/^Présence de /) }).first();
  await first().getByLabel(/^Présence de /).selectOption({ label: 'Présent' });
  await first().getByRole('button', { name: 'Enregistrer' }).click();
  await first().locator('.badge', { hasText: 'Présent' }).waitFor();
  await page.getByLabel('Présenter un patient').selectOption({ label: 'EXEMPLE-CARDIO Marcel' });
  await page.getByRole('button', { name: 'Présenter' }).click();
  const patientCase = page.locator('li.card').filter({ hasText: 'EXEMPLE-CARDIO Marcel' });
  await patientCase.getByLabel('Décision').fill('Avis du cardiologue à avancer, titration du traitement');
  await patientCase.getByLabel('Étape de suivi (facultatif)').fill('Consultation du cardiologue avancée');
  await patientCase.getByLabel("Rôle de l'étape de suivi").selectOption({ label: 'Cardiologue' });
  await patientCase.getByLabel('Dans les (jours)').fill('15');
  await patientCase.getByRole('button', { name: 'Enregistrer la décision' }).click();
  await page.getByText('Avis du cardiologue à avancer, titration du traitement').waitFor();
  await page.getByLabel('Compte rendu de la réunion').fill('Un cas discuté ; prochaine RCP dans un mois.');
  await page.getByRole('button', { name: 'Enregistrer le compte rendu' }).click();
  await page.getByLabel('Compte rendu de la réunion').waitFor();
  await shot(page, '98-parcours-rcp');
  await page.getByRole('link', { name: 'EXEMPLE-CARDIO Marcel' }).click();
  const step = page.locator('li.card').filter({ hasText: 'Consultation du cardiologue avancée' });
  assert.match(await step.textContent(), /décidée en réunion de concertation/);
  assert.deepEqual(page.problems, []);

  const phone = await newPage(session.browser, phoneSize);
  await login(phone, base, accounts.coordinator);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/${slug}/parcours/reunions`);
  await phone.getByRole('link', { name: 'RCP du mois' }).click();
  await phone.getByText('Avis du cardiologue à avancer').waitFor();
  await noSidewaysScroll(phone, 'a case meeting');
  await shot(phone, '99-parcours-rcp-telephone');
});

test('the coordinator loads the licensed Zarit wording and a phone reads the registry', async () => {
  const base = session.server.base;
  const page = await newPage(session.browser);
  await login(page, base, accounts.coordinator);
  await page.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await page.goto(`${base}/c/${slug}/parcours`);
  await page.getByRole('navigation', { name: 'Parcours de soins' }).getByRole('link', { name: 'Questionnaires' }).click();
  const zarit4 = page.locator('li.card').filter({ hasText: 'repérage à 4 items' });
  await zarit4.getByText('Charger les libellés officiels').click();
  await zarit4.getByLabel(/Libellés \(une ligne/).fill('1;Premier libellé officiel\n2;Deuxième libellé officiel');
  await zarit4.getByLabel('La CPTS détient la licence de ces libellés').check();
  await zarit4.getByRole('button', { name: 'Charger les libellés' }).click();
  assert.match(await page.getByRole('alert').textContent(), /questions sans libellé : 3, 4/);
  const again = page.locator('li.card').filter({ hasText: 'repérage à 4 items' });
  await again.getByLabel(/Libellés \(une ligne/).fill('1;Premier libellé officiel\n2;Deuxième libellé officiel\n3;Troisième libellé officiel\n4;Quatrième libellé officiel');
  await again.getByLabel('La CPTS détient la licence de ces libellés').check();
  await again.getByRole('button', { name: 'Charger les libellés' }).click();
  await page.getByText('Les libellés sous licence sont chargés').waitFor();
  assert.match(await page.locator('li.card').filter({ hasText: 'repérage à 4 items' }).textContent(), /libellés sous licence chargés/);
  await shot(page, '100-parcours-questionnaires');
  assert.deepEqual(page.problems, []);

  const phone = await newPage(session.browser, phoneSize);
  await login(phone, base, accounts.nurse);
  await phone.getByRole('heading', { name: /Bonjour/ }).waitFor();
  await phone.goto(`${base}/c/${slug}/parcours/questionnaires`);
  await phone.getByRole('heading', { name: 'Questionnaires de repérage', level: 1 }).waitFor();
  assert.equal(await phone.getByText('Charger les libellés officiels').count(), 0);
  await noSidewaysScroll(phone, 'the instruments registry');
  await shot(phone, '101-parcours-questionnaires-telephone');
});
