//! The satisfaction survey after an action: a few questions rated 1 to 5 and a comment, sent only to those
//! checked in; each answers once (a single-use link the service burns as the answer is stored, without
//! keeping who answered what); results shown only from a minimum number of answers, so that nobody's
//! answer can be told apart.

use crate::identifiers::ValidationError;

/// A question of the survey: a stable code and its wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub code: String,
    pub label: String,
}

/// The questions Maillage asks when the CPTS has not written its own for the theme.
pub fn default_questions() -> Vec<Question> {
    [
        (
            "satisfaction",
            "Dans l'ensemble, êtes-vous satisfait de l'action ?",
        ),
        ("clarte", "Les informations données étaient-elles claires ?"),
        ("utilite", "Vous sera-t-elle utile pour votre santé ?"),
    ]
    .into_iter()
    .map(|(code, label)| Question {
        code: code.into(),
        label: label.into(),
    })
    .collect()
}

/// Fewest answers before any result is shown.
pub const MIN_ANSWERS: usize = 5;
/// Longest comment kept.
pub const MAX_COMMENT: usize = 1000;

/// A checked answer: one score per question (None: not answered) and the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub scores: Vec<Option<u8>>,
    pub comment: String,
}

/// The answer, or every problem naming its field: scores from 1 to 5, at least one question answered, a
/// comment of at most 1 000 characters.
pub fn check_answer(
    questions: &[Question],
    given: &[String],
    comment: &str,
) -> Result<Answer, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let mut scores = Vec::with_capacity(questions.len());
    for (index, question) in questions.iter().enumerate() {
        let text = given.get(index).map(|s| s.trim()).unwrap_or("");
        if text.is_empty() {
            scores.push(None);
            continue;
        }
        match text.parse::<u8>() {
            Ok(n) if (1..=5).contains(&n) => scores.push(Some(n)),
            _ => {
                problems.push(ValidationError::new(
                    "Réponses",
                    format!("« {} » : une note de 1 à 5", question.label),
                ));
                scores.push(None);
            }
        }
    }
    if problems.is_empty() && scores.iter().all(Option::is_none) {
        problems.push(ValidationError::new(
            "Réponses",
            "répondez à au moins une question",
        ));
    }
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT {
        problems.push(ValidationError::new(
            "Commentaire",
            format!("{MAX_COMMENT} caractères au plus"),
        ));
    }
    if problems.is_empty() {
        Ok(Answer {
            scores,
            comment: comment.to_string(),
        })
    } else {
        Err(problems)
    }
}

/// One question's result: the mean of its scores and how many gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionResult {
    pub code: String,
    pub mean: Option<f64>,
    pub answers: usize,
}

/// The results, or None while fewer than [`MIN_ANSWERS`] people answered.
pub fn results(questions: &[Question], answers: &[Answer]) -> Option<Vec<QuestionResult>> {
    if answers.len() < MIN_ANSWERS {
        return None;
    }
    Some(
        questions
            .iter()
            .enumerate()
            .map(|(index, question)| {
                let scores: Vec<u8> = answers
                    .iter()
                    .filter_map(|a| a.scores.get(index).copied().flatten())
                    .collect();
                QuestionResult {
                    code: question.code.clone(),
                    mean: (!scores.is_empty()).then(|| {
                        scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64
                    }),
                    answers: scores.len(),
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn answers_are_rated_one_to_five_and_results_wait_for_enough_of_them() {
        let questions = default_questions();
        let answer = check_answer(&questions, &given(&["5", "", "4"]), " Très bien ").unwrap();
        assert_eq!(answer.scores, [Some(5), None, Some(4)]);
        assert_eq!(answer.comment, "Très bien");
        let wrong =
            check_answer(&questions, &given(&["6", "0", "x"]), &"a".repeat(1001)).unwrap_err();
        assert_eq!(wrong.len(), 4);
        assert_eq!(wrong[3].field, "Commentaire");
        assert_eq!(
            check_answer(&questions, &given(&[]), "").unwrap_err()[0].message,
            "répondez à au moins une question"
        );
        let four = vec![answer.clone(); 4];
        assert!(
            results(&questions, &four).is_none(),
            "four answers: nothing shown"
        );
        let mut five = four;
        five.push(check_answer(&questions, &given(&["3", "2", "4"]), "").unwrap());
        let shown = results(&questions, &five).unwrap();
        assert_eq!(shown[0].mean, Some((5.0 * 4.0 + 3.0) / 5.0));
        assert_eq!(shown[1].answers, 1);
        assert_eq!(shown[1].mean, Some(2.0));
    }
}
