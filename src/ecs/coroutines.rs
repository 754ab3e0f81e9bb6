//! Coroutines, language-neutral (SCRIPT_API §3 "Coroutine timing"): the
//! table of live coroutines, what each waits for, which are due in a
//! frame, and the recent ones that ended. The language objects (Lua threads,
//! Python generators) live in the backends, found by [`FnHandle`].

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::ecs::{FnHandle, ScriptId, ScriptValue};

/// What a coroutine asked for when it yielded.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitRequest {
    /// A bare yield: the next frame.
    NextFrame,
    /// `wait_frames(n)`.
    Frames(u64),
    /// `wait_seconds(s)`.
    Seconds(f64),
    /// `wait_event(name)`.
    Event(String),
}

/// What a coroutine waits for now.
#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// Not started: its first step is due in `frame` (or the frame after,
    /// when a coroutine started it).
    Start {
        /// The frame it was started in.
        frame: u64,
        /// Started during the coroutine phase (by another coroutine).
        from_coroutine: bool,
    },
    /// Due in frame `until` or later.
    Frames {
        /// The frame it resumes in.
        until: u64,
    },
    /// Due in the first frame whose time is at least `until`.
    Time {
        /// Simulated time it resumes at.
        until: f64,
    },
    /// Due in the frame an event of this name is delivered.
    Event {
        /// The event name.
        name: String,
    },
    /// Its event was delivered this frame; due now, resumed with `payload`.
    Delivered {
        /// The event's payload.
        payload: ScriptValue,
    },
}

/// Simulated time is a multiple of `fixed_dt`; a wait of `s` seconds is due
/// once time reaches it, allowing for the rounding of that product.
const TIME_EPSILON: f64 = 1e-9;

impl Wait {
    /// Whether it is due in `frame` (at `time`) during the coroutine phase.
    pub fn is_due(&self, frame: u64, time: f64) -> bool {
        match self {
            Wait::Start {
                frame: started,
                from_coroutine,
            } => {
                if *from_coroutine {
                    frame > *started
                } else {
                    frame >= *started
                }
            }
            Wait::Frames { until } => frame >= *until,
            Wait::Time { until } => time + TIME_EPSILON * until.abs().max(1.0) >= *until,
            Wait::Event { .. } => false,
            Wait::Delivered { .. } => true,
        }
    }

    /// A short human description: `waiting 3 frames`, `waiting for "hit"`...
    pub fn describe(&self, frame: u64, time: f64) -> String {
        match self {
            Wait::Start { .. } => "starting".into(),
            Wait::Frames { until } if *until <= frame => "due".into(),
            Wait::Frames { until } => {
                let n = until - frame;
                format!(
                    "waiting {n} frame{} (until frame {until})",
                    if n == 1 { "" } else { "s" }
                )
            }
            Wait::Time { until } => format!(
                "waiting {:.2} s (until t = {until:.2})",
                (until - time).max(0.0)
            ),
            Wait::Event { name } => format!("waiting for event {name:?}"),
            Wait::Delivered { .. } => "event arrived".into(),
        }
    }
}

/// A live coroutine.
#[derive(Debug, Clone)]
pub struct Coroutine {
    /// The id `ecs.start` returned.
    pub id: u64,
    /// The script that started it (its language object lives there).
    pub script: ScriptId,
    /// The backend's handle of the language object.
    pub handle: FnHandle,
    /// The name given to `ecs.start`.
    pub name: String,
    /// What it waits for.
    pub wait: Wait,
    /// Paused by the user: not resumed while set.
    pub paused: bool,
    /// Resumes so far.
    pub resumes: u64,
    /// Resumes in a row that ended waiting for the very next frame (a
    /// coroutine that polls).
    pub frame_waits: u64,
}

/// How a coroutine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Its function returned.
    Returned,
    /// `ecs.stop` or the user stopped it.
    Stopped,
    /// It raised an error.
    Failed,
}

impl Ending {
    /// The word used in events.
    pub fn name(self) -> &'static str {
        match self {
            Ending::Returned => "returned",
            Ending::Stopped => "stopped",
            Ending::Failed => "failed",
        }
    }
}

/// A coroutine that ended recently (kept for the debugger's table).
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    /// Its id.
    pub id: u64,
    /// Its script.
    pub script: ScriptId,
    /// Its name.
    pub name: String,
    /// How it ended.
    pub how: Ending,
    /// The frame it ended in.
    pub frame: u64,
}

/// Ended coroutines kept for display.
const KEEP_ENDED: usize = 100;

/// The table of coroutines.
#[derive(Debug, Default)]
pub struct Coroutines {
    /// By id; ids grow, so this is also start order.
    live: BTreeMap<u64, Coroutine>,
    ended: VecDeque<Ended>,
    next_id: u64,
    /// While set, no coroutine is resumed (the debugger's "pause all").
    pub all_paused: bool,
    /// Backend objects to release: ended coroutines whose language object
    /// the runtime has not dropped yet.
    released: Vec<(ScriptId, FnHandle)>,
}

impl Coroutines {
    /// Adds a coroutine started in `frame`; returns its id.
    pub fn start(
        &mut self,
        script: ScriptId,
        handle: FnHandle,
        name: &str,
        frame: u64,
        from_coroutine: bool,
    ) -> u64 {
        self.next_id += 1;
        self.live.insert(
            self.next_id,
            Coroutine {
                id: self.next_id,
                script,
                handle,
                name: name.to_string(),
                wait: Wait::Start {
                    frame,
                    from_coroutine,
                },
                paused: false,
                resumes: 0,
                frame_waits: 0,
            },
        );
        self.next_id
    }

    /// Live coroutines in start order.
    pub fn live(&self) -> impl Iterator<Item = &Coroutine> {
        self.live.values()
    }

    /// How many are live.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Recently ended coroutines, oldest first.
    pub fn ended(&self) -> &VecDeque<Ended> {
        &self.ended
    }

    /// A live coroutine.
    pub fn get(&self, id: u64) -> Option<&Coroutine> {
        self.live.get(&id)
    }

    /// A live coroutine, to change.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Coroutine> {
        self.live.get_mut(&id)
    }

    /// Ids of the coroutines due now, in start order (paused ones skipped).
    pub fn due(&self, frame: u64, time: f64) -> Vec<u64> {
        if self.all_paused {
            return Vec::new();
        }
        self.live
            .values()
            .filter(|c| !c.paused && c.wait.is_due(frame, time))
            .map(|c| c.id)
            .collect()
    }

    /// Marks coroutines waiting for `event` as due, with its payload (the
    /// first delivery of the frame wins).
    pub fn deliver(&mut self, event: &str, payload: &ScriptValue) {
        for c in self.live.values_mut() {
            if matches!(&c.wait, Wait::Event { name } if name == event) {
                c.wait = Wait::Delivered {
                    payload: payload.clone(),
                };
            }
        }
    }

    /// Records what a coroutine yielded in `frame` at `time`.
    pub fn set_wait(&mut self, id: u64, request: WaitRequest, frame: u64, time: f64) {
        if let Some(c) = self.get_mut(id) {
            let next_frame = matches!(request, WaitRequest::NextFrame | WaitRequest::Frames(0 | 1));
            c.frame_waits = if next_frame { c.frame_waits + 1 } else { 0 };
            c.wait = match request {
                WaitRequest::NextFrame => Wait::Frames { until: frame + 1 },
                WaitRequest::Frames(n) => Wait::Frames {
                    until: frame + n.max(1),
                },
                WaitRequest::Seconds(s) => Wait::Time { until: time + s },
                WaitRequest::Event(name) => Wait::Event { name },
            };
        }
    }

    /// Removes a coroutine; its language object is queued for release.
    pub fn end(&mut self, id: u64, how: Ending, frame: u64) -> Option<Ended> {
        let c = self.live.remove(&id)?;
        self.released.push((c.script, c.handle));
        let ended = Ended {
            id: c.id,
            script: c.script,
            name: c.name,
            how,
            frame,
        };
        self.ended.push_back(ended.clone());
        while self.ended.len() > KEEP_ENDED {
            self.ended.pop_front();
        }
        Some(ended)
    }

    /// Removes every coroutine of a script (it is being unloaded), without
    /// reporting them as ended.
    pub fn forget_script(&mut self, script: ScriptId) {
        self.live.retain(|_, c| c.script != script);
        self.released.retain(|(s, _)| *s != script);
    }

    /// Takes a script's live coroutines out of the table (their language
    /// objects stay in its backend), to put back with [`Coroutines::restore`].
    pub fn take_script(&mut self, script: ScriptId) -> Vec<Coroutine> {
        let ids: Vec<u64> = self
            .live
            .values()
            .filter(|c| c.script == script)
            .map(|c| c.id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.live.remove(&id))
            .collect()
    }

    /// Puts back coroutines taken with [`Coroutines::take_script`].
    pub fn restore(&mut self, coroutines: Vec<Coroutine>) {
        for c in coroutines {
            self.live.insert(c.id, c);
        }
    }

    /// Language objects to release.
    pub fn take_released(&mut self) -> Vec<(ScriptId, FnHandle)> {
        std::mem::take(&mut self.released)
    }

    /// Whether a coroutine with this id ever existed.
    pub fn was_started(&self, id: u64) -> bool {
        id >= 1 && id <= self.next_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (Coroutines, u64) {
        let mut t = Coroutines::default();
        let id = t.start(ScriptId(0), FnHandle(0), "co", 0, false);
        (t, id)
    }

    #[test]
    fn first_step_timing() {
        let (mut t, id) = table();
        assert_eq!(t.due(0, 0.0), vec![id]);
        let late = t.start(ScriptId(0), FnHandle(1), "late", 3, true);
        assert!(!t.due(3, 0.0).contains(&late));
        assert!(t.due(4, 0.0).contains(&late));
    }

    #[test]
    fn waits() {
        let (mut t, id) = table();
        t.set_wait(id, WaitRequest::Frames(3), 2, 0.0);
        assert!(t.due(4, 0.0).is_empty());
        assert_eq!(t.due(5, 0.0), vec![id]);
        t.set_wait(id, WaitRequest::Seconds(1.0), 5, 5.0 / 60.0);
        assert!(t.due(64, 64.0 / 60.0).is_empty());
        assert_eq!(t.due(65, 65.0 / 60.0), vec![id]);
        t.set_wait(id, WaitRequest::Event("hit".into()), 65, 0.0);
        assert!(t.due(100, 0.0).is_empty());
        t.deliver("hit", &ScriptValue::Int(7));
        assert_eq!(t.due(100, 0.0), vec![id]);
        t.all_paused = true;
        assert!(t.due(100, 0.0).is_empty());
    }

    #[test]
    fn ending_keeps_a_bounded_history() {
        let mut t = Coroutines::default();
        for i in 0..150 {
            let id = t.start(ScriptId(0), FnHandle(i), "x", 0, false);
            t.end(id, Ending::Returned, 0);
        }
        assert_eq!(t.live_count(), 0);
        assert_eq!(t.ended().len(), KEEP_ENDED);
        assert_eq!(t.take_released().len(), 150);
    }
}
