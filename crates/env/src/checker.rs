//! Gymnasium's env checker, in Rust.

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::{Env, EnvError, Info, Step};

/// What [`check_env`] verified: one line per passed check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckReport {
    /// The env id.
    pub id: String,
    /// The checks, in the order they ran.
    pub passed: Vec<String>,
    /// Steps taken in all.
    pub steps: usize,
}

/// Runs Gymnasium's checks on the env that `make` builds (twice, for the
/// determinism checks): valid spaces; observations in the observation space
/// after reset and after every step; seeded resets and steps deterministic;
/// another seed gives another start; finite rewards that equal the sum of
/// the info's reward terms; an episode that ends (by termination or time
/// limit) and a reset that starts a new one; actions outside the space
/// (NaN, out of bounds, wrong length) refused without a panic.
/// Returns the first failure as a message.
pub fn check_env(make: &dyn Fn() -> Result<Box<dyn Env>, EnvError>, max_steps: usize) -> Result<CheckReport, String> {
    let mut a = make().map_err(|e| format!("making the env failed: {e}"))?;
    let mut b = make().map_err(|e| format!("making the env failed: {e}"))?;
    let mut report = CheckReport { id: a.id().to_owned(), ..Default::default() };
    let id = report.id.clone();
    let fail = |what: &str| format!("{id}: {what}");

    a.observation_space().validate().map_err(|e| fail(&format!("observation space: {e}")))?;
    a.action_space().validate().map_err(|e| fail(&format!("action space: {e}")))?;
    report.passed.push(format!(
        "spaces: obs {}, action {}",
        a.observation_space().describe(),
        a.action_space().describe()
    ));

    let obs_dim = a.observation_space().flat_dim();
    let act_dim = a.action_space().flat_dim();
    let (mut oa, mut ob) = (vec![0.0; obs_dim], vec![0.0; obs_dim]);
    let (mut ia, mut ib) = (a.new_info(), b.new_info());
    if ia.reward_terms.is_empty() {
        return Err(fail("the info lists no reward term"));
    }

    a.reset(Some(123), &mut oa, &mut ia);
    b.reset(Some(123), &mut ob, &mut ib);
    in_space(&*a, &oa).map_err(|e| fail(&format!("reset observation: {e}")))?;
    if bits(&oa) != bits(&ob) || ia != ib {
        return Err(fail("two resets with seed 123 differ"));
    }
    let first = oa.clone();
    b.reset(Some(124), &mut ob, &mut ib);
    let other_seed_differs = bits(&ob) != bits(&first);
    a.reset(Some(123), &mut oa, &mut ia);
    if bits(&oa) != bits(&first) {
        return Err(fail("reseeding with 123 after another episode does not restart the same way"));
    }
    b.reset(Some(123), &mut ob, &mut ib);
    report.passed.push(format!(
        "seeded reset deterministic{}",
        if other_seed_differs {
            ", another seed starts elsewhere"
        } else {
            " (this task's start does not depend on the seed)"
        }
    ));

    // Bad actions are refused, and refusing changes nothing.
    let mut bad = vec![0.0; act_dim];
    bad[0] = f32::NAN;
    for (what, action) in [("a NaN action", bad.clone()), ("an action of the wrong length", vec![0.0; act_dim + 1])] {
        match a.step(&action, &mut oa, &mut ia) {
            Err(EnvError::InvalidAction { .. }) => {}
            Ok(_) => return Err(fail(&format!("{what} was accepted"))),
            Err(e) => return Err(fail(&format!("{what} gave the wrong error: {e}"))),
        }
    }
    report.passed.push("invalid actions refused".into());

    let mut rng = StdRng::seed_from_u64(7);
    let mut action = vec![0.0; act_dim];
    let mut episodes_ended = 0;
    let mut steps = 0;
    while steps < max_steps {
        a.action_space().sample(&mut rng, &mut action);
        let sa = a.step(&action, &mut oa, &mut ia).map_err(|e| fail(&format!("step {steps}: {e}")))?;
        let sb = b.step(&action, &mut ob, &mut ib).map_err(|e| fail(&format!("step {steps}: {e}")))?;
        steps += 1;
        check_step(&*a, &oa, &sa, &ia).map_err(|e| fail(&format!("step {steps}: {e}")))?;
        if bits(&oa) != bits(&ob) || sa.reward.to_bits() != sb.reward.to_bits() || sa != sb || ia != ib {
            return Err(fail(&format!("step {steps}: two envs with one seed and one action sequence differ")));
        }
        if sa.terminated || sa.truncated {
            episodes_ended += 1;
            a.reset(None, &mut oa, &mut ia);
            b.reset(None, &mut ob, &mut ib);
            in_space(&*a, &oa).map_err(|e| fail(&format!("reset after an episode end: {e}")))?;
            if episodes_ended >= 2 {
                break;
            }
        }
    }
    report.passed.push(format!("{steps} random steps: observations in space, finite rewards equal to their terms"));
    report.passed.push("steps deterministic for one seed and one action sequence".into());
    if episodes_ended == 0 {
        return Err(fail(&format!("no episode ended within {steps} steps: is there a time limit?")));
    }
    report.passed.push(format!("{episodes_ended} episode(s) ended and reset"));
    report.steps = steps;
    Ok(report)
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn in_space(env: &dyn Env, obs: &[f32]) -> Result<(), String> {
    match env.observation_space().why_not(obs) {
        None => Ok(()),
        Some(why) => Err(format!("observation not in the observation space: {why}")),
    }
}

fn check_step(env: &dyn Env, obs: &[f32], s: &Step, info: &Info) -> Result<(), String> {
    in_space(env, obs)?;
    if !s.reward.is_finite() {
        return Err(format!("reward {} is not finite", s.reward));
    }
    let sum: f32 = info.reward_terms.iter().map(|(_, v)| v).sum();
    if (sum - s.reward).abs() > 1e-4 * (1.0 + s.reward.abs()) && !info.physics_fault {
        return Err(format!("reward {} is not the sum of its terms {:?}", s.reward, info.reward_terms));
    }
    if info.physics_fault && !s.truncated {
        return Err("a physics fault must truncate the episode".into());
    }
    if info.success && !s.terminated {
        return Err("success reported on a step that does not terminate".into());
    }
    if !info.facts.iter().all(|(_, v)| v.is_finite()) {
        return Err(format!("a fact is not finite: {:?}", info.facts));
    }
    Ok(())
}
