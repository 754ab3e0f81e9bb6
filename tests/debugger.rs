//! The coroutine debugger through the runtime API: where a coroutine is
//! suspended and its locals, stepping one resume, pausing, and breakpoints
//! with stepping, in Lua and Python.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use ecscope::runtime::{CoroutineStatus, Runtime, RuntimeCommand};
use ecscope::scripting::debugger::{BreakInfo, DebugAction, FrameAccess};

const LUA_WALKER: &str = "\
ecs.start(\"walker\", function(steps)
  local count = 0
  while true do
    count = count + 1
    local label = \"step \" .. count
    ecs.wait_frames(2)
  end
end, 10)
";

const PY_WALKER: &str = "\
import ecs
def walker(steps):
    count = 0
    while True:
        count += 1
        label = \"step %d\" % count
        yield ecs.wait_frames(2)
ecs.start(\"walker\", walker, 10)
";

/// (file, walker source, line of `count = count + 1`, line of the wait)
fn walkers() -> Vec<(&'static str, &'static str, u32, u32)> {
    let mut all = vec![("main.lua", LUA_WALKER, 4, 6)];
    if cfg!(feature = "python") {
        all.push(("main.py", PY_WALKER, 5, 7));
    }
    all
}

fn local<'a>(frame: &'a ecscope::scripting::StackFrame, name: &str) -> Option<&'a str> {
    frame
        .locals
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_suspended_coroutine_shows_its_line_and_locals() {
    for (file, source, _, wait_line) in walkers() {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.step();
        let views = rt.coroutines(true);
        assert_eq!(views.len(), 1, "{file}: {:?}", rt.drain_events());
        let walker = &views[0];
        assert_eq!(walker.name, "walker");
        assert_eq!(walker.status, CoroutineStatus::Waiting);
        assert_eq!(
            walker.location,
            Some((format!("scripts/{file}"), wait_line)),
            "{file}"
        );
        assert!(
            walker.state.contains("until frame 2"),
            "{file}: {}",
            walker.state
        );

        let frames = rt.inspect_coroutine(walker.id).unwrap();
        let top = &frames[0];
        assert_eq!(top.line, wait_line, "{file}");
        // Lua names the function `ecs.start` was given by its name there.
        assert_eq!(top.function, "walker", "{file}");
        assert_eq!(local(top, "count"), Some("1"), "{file}: {:?}", top.locals);
        assert_eq!(local(top, "steps"), Some("10"), "{file}: {:?}", top.locals);
        // Lua renders strings as "step 1", Python as 'step 1'.
        assert!(local(top, "label").unwrap().contains("step 1"), "{file}");
    }
}

#[test]
fn stepping_runs_exactly_one_resume_while_paused() {
    for (file, source, _, _) in walkers() {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.step();
        rt.apply(RuntimeCommand::PauseAllCoroutines { paused: true })
            .unwrap();
        let id = rt.coroutines(false)[0].id;
        for expected in ["2", "3"] {
            rt.apply(RuntimeCommand::StepCoroutine { id }).unwrap();
            let frames = rt.inspect_coroutine(id).unwrap();
            assert_eq!(local(&frames[0], "count"), Some(expected), "{file}");
        }
        assert_eq!(rt.frame(), 1, "{file}: stepping does not run frames");
        // Paused: frames run, the coroutine does not.
        for _ in 0..6 {
            rt.step();
        }
        let frames = rt.inspect_coroutine(id).unwrap();
        assert_eq!(local(&frames[0], "count"), Some("3"), "{file}");
        assert_eq!(rt.coroutines(false)[0].status, CoroutineStatus::Paused);
        rt.apply(RuntimeCommand::PauseAllCoroutines { paused: false })
            .unwrap();
        rt.step();
        let frames = rt.inspect_coroutine(id).unwrap();
        assert_eq!(
            local(&frames[0], "count"),
            Some("4"),
            "{file}: resumes once unpaused"
        );
        rt.apply(RuntimeCommand::StopCoroutine { id }).unwrap();
        let views = rt.coroutines(false);
        assert_eq!(views[0].status, CoroutineStatus::Stopped, "{file}");
        assert!(
            rt.apply(RuntimeCommand::StepCoroutine { id }).is_err(),
            "{file}"
        );
    }
}

/// Installs a handler that records every break and answers from `plan`
/// (then Continue).
fn record(rt: &Runtime, plan: Vec<DebugAction>) -> Rc<RefCell<Vec<BreakInfo>>> {
    let seen: Rc<RefCell<Vec<BreakInfo>>> = Rc::default();
    let log = Rc::clone(&seen);
    let mut plan = plan.into_iter();
    rt.debugger().set_handler(Some(Box::new(
        move |info: &BreakInfo, _: &mut dyn FrameAccess| {
            log.borrow_mut().push(info.clone());
            plan.next().unwrap_or(DebugAction::Continue)
        },
    )));
    seen
}

#[test]
fn a_breakpoint_stops_the_coroutine_at_its_line_and_step_over_goes_on() {
    for (file, source, count_line, _) in walkers() {
        let (_dir, mut rt) = common::one_script(file, source);
        let path = format!("scripts/{file}");
        rt.apply(RuntimeCommand::SetBreakpoint {
            file: path.clone(),
            line: count_line,
            on: true,
        })
        .unwrap();
        let seen = record(&rt, vec![DebugAction::StepOver]);
        rt.step();
        let breaks = seen.borrow().clone();
        assert_eq!(
            breaks.len(),
            2,
            "{file}: breakpoint, then one step: {breaks:?}"
        );
        let first = &breaks[0];
        assert_eq!(
            (first.file.as_str(), first.line),
            (path.as_str(), count_line),
            "{file}"
        );
        assert_eq!(first.reason, "breakpoint");
        assert_eq!(first.context, "coroutine 'walker'");
        assert_eq!(first.coroutine, Some(1));
        assert_eq!(
            local(&first.frames[0], "count"),
            Some("0"),
            "{file}: before the line runs"
        );
        let second = &breaks[1];
        assert_eq!(
            second.line,
            count_line + 1,
            "{file}: step over stops at the next line"
        );
        assert_eq!(second.reason, "step");
        assert_eq!(local(&second.frames[0], "count"), Some("1"), "{file}");

        // Cleared: the coroutine runs on without stopping.
        rt.apply(RuntimeCommand::ClearBreakpoints).unwrap();
        for _ in 0..4 {
            rt.step();
        }
        assert_eq!(seen.borrow().len(), 2, "{file}");
    }
}

#[test]
fn breakpoints_stop_systems_too() {
    let source = "ecs.spawn({ Position = {} })\n\
        ecs.system('mover', { 'Position' }, function(id, pos, dt)\n  pos.x = pos.x + 1\nend)\n";
    let (_dir, mut rt) = common::one_script("main.lua", source);
    rt.apply(RuntimeCommand::SetBreakpoint {
        file: "scripts/main.lua".into(),
        line: 3,
        on: true,
    })
    .unwrap();
    let seen = record(&rt, vec![]);
    rt.step();
    let breaks = seen.borrow();
    assert_eq!(breaks.len(), 1);
    assert_eq!(breaks[0].context, "system 'mover'");
    assert_eq!(breaks[0].coroutine, None);
    assert!(
        local(&breaks[0].frames[0], "pos")
            .unwrap()
            .contains("Position"),
        "{:?}",
        breaks[0].frames[0].locals
    );
}

#[test]
fn a_breakpoint_on_a_line_without_code_never_stops() {
    let (_dir, mut rt) = common::one_script("main.lua", LUA_WALKER);
    rt.apply(RuntimeCommand::SetBreakpoint {
        file: "scripts/main.lua".into(),
        line: 200,
        on: true,
    })
    .unwrap();
    let seen = record(&rt, vec![]);
    for _ in 0..5 {
        rt.step();
    }
    assert!(seen.borrow().is_empty());
    assert_eq!(rt.error_count(), 0);
}

#[test]
fn ten_thousand_coroutines_run() {
    let source = "for i = 1, 10000 do\n  ecs.start('c' .. i, function()\n    while true do ecs.wait_frames(1 + i % 3) end\n  end)\nend\n";
    let (_dir, mut rt) = common::one_script("main.lua", source);
    for _ in 0..10 {
        rt.step();
    }
    assert_eq!(rt.error_count(), 0);
    assert_eq!(rt.coroutines(false).len(), 10_000);
}

/// Step out of a function stops in its caller, in both languages.
#[test]
fn step_out_stops_in_the_caller() {
    let lua = "\
local function inner()
  local a = 1
  local b = 2
  return a + b
end
ecs.system('s', function(dt)
  local x = inner()
  local y = x + 1
end)
";
    let py = "\
import ecs
def inner():
    a = 1
    b = 2
    return a + b
@ecs.system('s')
def s(dt):
    x = inner()
    y = x + 1
";
    let mut cases = vec![("main.lua", lua, 2, [7, 8])];
    if cfg!(feature = "python") {
        cases.push(("main.py", py, 3, [8, 9]));
    }
    for (file, source, line, caller_lines) in cases {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.apply(RuntimeCommand::SetBreakpoint {
            file: format!("scripts/{file}"),
            line,
            on: true,
        })
        .unwrap();
        let seen = record(&rt, vec![DebugAction::StepOut]);
        rt.step();
        let breaks = seen.borrow().clone();
        assert_eq!(breaks.len(), 2, "{file}: {breaks:?}");
        assert_eq!(breaks[0].line, line, "{file}");
        let out = &breaks[1];
        assert!(caller_lines.contains(&out.line), "{file}: {out:?}");
        assert_eq!(out.reason, "step");
        assert_eq!(
            out.frames.len() + 1,
            breaks[0].frames.len(),
            "{file}: one frame out"
        );
    }
}

/// Run to cursor stops once at its line, in both languages; another stop
/// on the way gives it up.
#[test]
fn run_to_line_stops_once_and_gives_way_to_other_stops() {
    for (file, source, count_line, wait_line) in walkers() {
        let path = format!("scripts/{file}");
        let (_dir, mut rt) = common::one_script(file, source);
        let seen = record(&rt, vec![]);
        rt.apply(RuntimeCommand::RunToLine {
            file: path.clone(),
            line: wait_line,
        })
        .unwrap();
        for _ in 0..6 {
            rt.step();
        }
        {
            let breaks = seen.borrow();
            assert_eq!(breaks.len(), 1, "{file}: once: {breaks:?}");
            assert_eq!((breaks[0].line, breaks[0].reason), (wait_line, "cursor"));
        }

        // A breakpoint reached first (the line before): the run to cursor
        // is given up.
        rt.apply(RuntimeCommand::SetBreakpoint {
            file: path.clone(),
            line: count_line,
            on: true,
        })
        .unwrap();
        rt.apply(RuntimeCommand::RunToLine {
            file: path.clone(),
            line: count_line + 1,
        })
        .unwrap();
        for _ in 0..6 {
            rt.step();
        }
        let breaks = seen.borrow();
        let after: Vec<_> = breaks[1..].iter().map(|b| b.reason).collect();
        assert!(!after.is_empty(), "{file}");
        assert!(
            after.iter().all(|r| *r == "breakpoint"),
            "{file}: {after:?}"
        );
    }
}

/// The time the world waits at a stop is not charged to the frame or to
/// the call that stopped.
#[test]
fn time_stopped_is_not_time_spent() {
    const STOPPED_MS: u64 = 600;
    let source = "ecs.system('s', function(dt)\n  local x = 1\nend)\n";
    let (_dir, mut rt) = common::one_script("main.lua", source);
    rt.apply(RuntimeCommand::SetBreakpoint {
        file: "scripts/main.lua".into(),
        line: 2,
        on: true,
    })
    .unwrap();
    rt.debugger()
        .set_handler(Some(Box::new(|_: &BreakInfo, _: &mut dyn FrameAccess| {
            std::thread::sleep(std::time::Duration::from_millis(STOPPED_MS));
            DebugAction::Continue
        })));
    rt.step();
    // Charged, the stop alone would make the frame as long as the stop;
    // the frame's own work is far below it even on a busy machine.
    assert!(
        rt.last_frame_time() < std::time::Duration::from_millis(STOPPED_MS),
        "{:?}",
        rt.last_frame_time()
    );
    let table = rt.stats_table();
    let row = table
        .rows
        .iter()
        .find(|r| r.name == "s")
        .expect("the system's row");
    assert!(row.max_ms < STOPPED_MS as f64, "{row:?}");
    assert!(
        table.frame_max_ms < STOPPED_MS as f64,
        "{}",
        table.frame_max_ms
    );
    // The flame graph: the frame that stopped is left out; the next one,
    // which did not stop, is there.
    let recorded = |rt: &Runtime| rt.profile_frames().lock().unwrap().recent_frames().count();
    assert_eq!(
        recorded(&rt),
        0,
        "the stopped frame is not in the flame graph"
    );
    rt.apply(RuntimeCommand::ClearBreakpoints).unwrap();
    rt.step();
    assert_eq!(recorded(&rt), 1);
    let longest = rt
        .profile_frames()
        .lock()
        .unwrap()
        .recent_frames()
        .map(|f| f.range_ns().1 - f.range_ns().0)
        .max()
        .unwrap();
    assert!(longest < 200_000_000, "{longest} ns");
}
