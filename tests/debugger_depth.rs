//! The debugger in depth, through the runtime API, in Lua and Python:
//! conditions, hit counts, logpoints, evaluation and setting locals,
//! expanding values, break on error, data breakpoints and write tracking,
//! frame names.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use ecscope::runtime::events::EventKind;
use ecscope::runtime::{Runtime, RuntimeCommand};
use ecscope::scripting::debugger::{BreakInfo, BreakpointSpec, DebugAction, FrameAccess, Variable};

/// What a stop saw: the break, and what the test asked in it.
#[derive(Debug, Clone)]
struct Seen {
    info: BreakInfo,
    answers: Vec<Result<Variable, String>>,
}

/// A question asked at each stop.
type Ask = Box<dyn Fn(&mut dyn FrameAccess) -> Vec<Result<Variable, String>>>;

/// Records every stop, asking `ask` there, then continues.
fn on_stop(rt: &Runtime, ask: Ask) -> Rc<RefCell<Vec<Seen>>> {
    let seen: Rc<RefCell<Vec<Seen>>> = Rc::default();
    let log = Rc::clone(&seen);
    rt.debugger().set_handler(Some(Box::new(
        move |info: &BreakInfo, access: &mut dyn FrameAccess| {
            let answers = ask(access);
            log.borrow_mut().push(Seen {
                info: info.clone(),
                answers,
            });
            DebugAction::Continue
        },
    )));
    seen
}

fn value(answer: &Result<Variable, String>) -> &str {
    answer
        .as_ref()
        .map(|v| v.value.as_str())
        .unwrap_or("<error>")
}

fn both() -> Vec<(&'static str, &'static str)> {
    let mut all = vec![(
        "main.lua",
        "local total = 0\n\
         ecs.system('count', function(dt)\n\
         \x20 local n = ecs.frame()\n\
         \x20 total = total + n\n\
         \x20 ecs.log('total ' .. total)\n\
         end)\n",
    )];
    if cfg!(feature = "python") {
        all.push((
            "main.py",
            "import ecs\n\
             state = {'total': 0}\n\
             @ecs.system('count')\n\
             def count(dt):\n\
             \x20   n = ecs.frame()\n\
             \x20   state['total'] += n\n\
             \x20   ecs.log('total %d' % state['total'])\n",
        ));
    }
    all
}

/// The line of `total = total + n` / `state['total'] += n`.
fn add_line(file: &str) -> u32 {
    if file.ends_with(".lua") { 4 } else { 6 }
}

fn spec(condition: Option<&str>, hits: Option<&str>, log: Option<&str>) -> BreakpointSpec {
    BreakpointSpec {
        enabled: true,
        condition: condition.map(Into::into),
        hit_count: hits.map(Into::into),
        log_message: log.map(Into::into),
    }
}

fn set(rt: &mut Runtime, file: &str, line: u32, spec: BreakpointSpec) {
    rt.apply(RuntimeCommand::SetBreakpointSpec {
        file: format!("scripts/{file}"),
        line,
        spec,
    })
    .unwrap();
}

#[test]
fn a_condition_stops_only_when_true_and_sees_the_frame() {
    for (file, source) in both() {
        let (_dir, mut rt) = common::one_script(file, source);
        let cond = "n % 3 == 0";
        set(&mut rt, file, add_line(file), spec(Some(cond), None, None));
        let seen = on_stop(&rt, Box::new(|a| vec![a.evaluate(0, "n")]));
        for _ in 0..7 {
            rt.step();
        }
        let frames: Vec<String> = seen
            .borrow()
            .iter()
            .map(|s| value(&s.answers[0]).to_string())
            .collect();
        // ecs.frame() is 0-based: frames 0, 3 and 6 stop.
        assert_eq!(frames, ["0", "3", "6"], "{file}");
        let first = &seen.borrow()[0].info;
        assert_eq!(
            first.frames[0].function, "count",
            "{file}: named after the system"
        );
        assert_eq!(first.reason, "breakpoint");
    }
}

#[test]
fn a_broken_condition_stops_and_says_why() {
    for (file, source) in both() {
        let (_dir, mut rt) = common::one_script(file, source);
        set(
            &mut rt,
            file,
            add_line(file),
            spec(Some("n +* 2"), None, None),
        );
        let seen = on_stop(&rt, Box::new(|_| vec![]));
        rt.step();
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1, "{file}");
        let message = seen[0].info.message.clone().unwrap_or_default();
        assert!(
            message.contains("condition 'n +* 2' failed"),
            "{file}: {message}"
        );
        let list = rt.debugger().breakpoint_list();
        assert!(
            list[0].error.is_some(),
            "{file}: the error is kept on the breakpoint"
        );
        assert_eq!(rt.error_count(), 0, "{file}: the run goes on");
    }
}

#[test]
fn hit_counts_and_logpoints() {
    for (file, source) in both() {
        let (_dir, mut rt) = common::one_script(file, source);
        set(&mut rt, file, add_line(file), spec(None, Some("% 2"), None));
        let seen = on_stop(&rt, Box::new(|a| vec![a.evaluate(0, "n")]));
        for _ in 0..6 {
            rt.step();
        }
        let stops: Vec<String> = seen
            .borrow()
            .iter()
            .map(|s| value(&s.answers[0]).to_string())
            .collect();
        assert_eq!(stops, ["1", "3", "5"], "{file}: every second hit");

        // A logpoint writes its message with the line and never stops.
        set(
            &mut rt,
            file,
            add_line(file),
            spec(None, None, Some("n is {n}, twice {n * 2}")),
        );
        rt.drain_events();
        seen.borrow_mut().clear();
        rt.step();
        assert!(seen.borrow().is_empty(), "{file}: a logpoint does not stop");
        let logs: Vec<(String, u32, String)> = rt
            .drain_events()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Logpoint {
                    file,
                    line,
                    message,
                } => Some((file, line, message)),
                _ => None,
            })
            .collect();
        assert_eq!(
            logs,
            [(
                format!("scripts/{file}"),
                add_line(file),
                "n is 6, twice 12".to_string()
            )],
            "{file}"
        );
        // A hit count that is not one is refused where it is typed.
        let err = rt
            .apply(RuntimeCommand::SetBreakpointSpec {
                file: format!("scripts/{file}"),
                line: 3,
                spec: spec(None, Some("often"), None),
            })
            .unwrap_err();
        assert!(err.to_string().contains("'often' is not a count"), "{err}");
        assert_eq!(rt.debugger().breakpoint_list().len(), 1, "nothing was lost");
    }
}

#[test]
fn evaluate_run_statements_and_set_locals() {
    for (file, source) in both() {
        let (_dir, mut rt) = common::one_script(file, source);
        set(&mut rt, file, add_line(file), spec(None, Some("1"), None));
        let lua = file.ends_with(".lua");
        let seen = on_stop(
            &rt,
            Box::new(move |a| {
                vec![
                    a.evaluate(0, "n + 40"),
                    a.evaluate(0, "ecs.frame()"),
                    // Changed here, the script goes on with it.
                    a.set_local(0, "n", "1000"),
                    a.evaluate(0, "undefined_name.field"),
                    // A runaway loop is stopped, and the next evaluation works.
                    a.evaluate(
                        0,
                        if lua {
                            "while true do end"
                        } else {
                            "while True: pass"
                        },
                    ),
                    a.evaluate(0, "n"),
                ]
            }),
        );
        rt.step();
        rt.step();
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1, "{file}");
        let answers = &seen[0].answers;
        assert_eq!(value(&answers[0]), "40", "{file}");
        assert_eq!(value(&answers[1]), "0", "{file}: ecs is there");
        assert_eq!(value(&answers[2]), "1000", "{file}");
        assert!(answers[3].is_err(), "{file}");
        let runaway = answers[4].clone().unwrap_err();
        assert!(runaway.contains("stopped: more than"), "{file}: {runaway}");
        assert_eq!(value(&answers[5]), "1000", "{file}");
        // The script used the new value: total = 1000 + 1 after frame 1.
        let logs: Vec<String> = rt
            .drain_events()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Log { message, .. } => Some(message),
                _ => None,
            })
            .collect();
        assert_eq!(logs, ["total 1000", "total 1001"], "{file}");
    }
}

#[test]
fn tables_lists_and_objects_expand() {
    let lua = "ecs.system('s', function(dt)\n  local t = { x = 1, list = { 10, 20 }, ['odd key'] = true }\n  ecs.log(t.x)\nend)\n";
    let py = "import ecs\nclass P:\n    def __init__(self):\n        self.x = 1\n@ecs.system('s')\ndef s(dt):\n    t = {'x': 1, 'list': [10, 20], 'p': P()}\n    ecs.log(t['x'])\n";
    let mut cases = vec![("main.lua", lua, 3)];
    if cfg!(feature = "python") {
        cases.push(("main.py", py, 8));
    }
    for (file, source, line) in cases {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.apply(RuntimeCommand::SetBreakpoint {
            file: format!("scripts/{file}"),
            line,
            on: true,
        })
        .unwrap();
        let found: Rc<RefCell<Vec<Vec<Variable>>>> = Rc::default();
        let log = Rc::clone(&found);
        rt.debugger().set_handler(Some(Box::new(
            move |_: &BreakInfo, a: &mut dyn FrameAccess| {
                let locals = a.locals(0).unwrap();
                let t = locals.iter().find(|v| v.name == "t").unwrap().clone();
                assert!(t.expandable);
                let children = a.children(0, &t.expr).unwrap();
                let list = children.iter().find(|v| v.name.contains("list")).unwrap();
                let items = a.children(0, &list.expr).unwrap();
                log.borrow_mut().push(locals);
                log.borrow_mut().push(children);
                log.borrow_mut().push(items);
                DebugAction::Continue
            },
        )));
        rt.step();
        let found = found.borrow();
        assert_eq!(found.len(), 3, "{file}: {:?}", rt.drain_events());
        let items: Vec<&str> = found[2].iter().map(|v| v.value.as_str()).collect();
        assert_eq!(items, ["10", "20"], "{file}");
        if file.ends_with(".py") {
            let p = found[1].iter().find(|v| v.name == "'p'").unwrap();
            assert!(p.expandable, "{file}: objects expand");
        } else {
            assert!(
                found[1]
                    .iter()
                    .any(|v| v.name == "odd key" && v.expr == "(t)[\"odd key\"]")
            );
        }
    }
}

#[test]
fn break_on_error_stops_at_the_raising_line_with_its_locals() {
    let lua = "ecs.system('fail', function(dt)\n  local hp = -3\n  local function check(v)\n    if v < 0 then error('hp below zero') end\n  end\n  check(hp)\nend)\n";
    let py = "import ecs\n@ecs.system('fail')\ndef fail(dt):\n    hp = -3\n    def check(v):\n        if v < 0:\n            raise ValueError('hp below zero')\n    check(hp)\n";
    let lua_co = "ecs.start('walk', function()\n  local steps = 2\n  ecs.wait_frames(1)\n  error('tripped after ' .. steps)\nend)\n";
    let mut cases = vec![
        ("main.lua", lua, 4, "check", "v", "-3"),
        ("co.lua", lua_co, 4, "walk", "steps", "2"),
    ];
    if cfg!(feature = "python") {
        cases.push(("main.py", py, 7, "check", "v", "-3"));
    }
    for (file, source, line, function, local, expected) in cases {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.apply(RuntimeCommand::SetBreakOnError(true)).unwrap();
        let local_name = local.to_string();
        let seen = on_stop(&rt, Box::new(move |a| vec![a.evaluate(0, &local_name)]));
        rt.step();
        rt.step();
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1, "{file}: {:?}", rt.drain_events());
        let stop = &seen[0];
        assert_eq!(stop.info.reason, "error");
        assert_eq!(stop.info.line, line, "{file}");
        assert_eq!(stop.info.frames[0].function, function, "{file}");
        assert!(
            stop.info
                .message
                .as_deref()
                .unwrap()
                .contains("hp below zero")
                || file == "co.lua"
        );
        assert_eq!(value(&stop.answers[0]), expected, "{file}");
        // Then the error takes its course.
        assert_eq!(rt.error_count(), 1, "{file}");
    }
}

#[test]
fn off_by_default_errors_do_not_stop() {
    let (_dir, mut rt) =
        common::one_script("main.lua", "ecs.system('f', function() error('x') end)\n");
    let seen = on_stop(&rt, Box::new(|_| vec![]));
    rt.step();
    assert!(seen.borrow().is_empty());
    assert_eq!(rt.error_count(), 1);
}

/// A system that takes 2 from a field of entity 1 each frame, written
/// several ways: (file, source, writing line, field). A Lua batch on a
/// built-in component writes in place; batch arrays that are copies
/// (Python's, and Lua's of declared components) reach the world when the
/// system returns, so their write is put down to the system's last line.
fn writers() -> Vec<(&'static str, &'static str, u32, &'static str)> {
    let mut all = vec![
        (
            "live.lua",
            "ecs.component('Health', { hp = 3 })\necs.spawn({ Health = {} })\n\
             ecs.system('hurt', { 'Health' }, function(id, h, dt)\n  local before = h.hp\n  h.hp = h.hp - 2\n  local after = h.hp\nend)\n",
            5,
            "Health.hp",
        ),
        (
            "set.lua",
            "ecs.component('Health', { hp = 3 })\nlocal e = ecs.spawn({ Health = {} })\n\
             ecs.system('hurt', function(dt)\n  local h = ecs.get(e, 'Health')\n  ecs.set(e, 'Health', { hp = h.hp - 2 })\n  local done = true\nend)\n",
            5,
            "Health.hp",
        ),
        (
            "batch.lua",
            "ecs.spawn({ Position = { x = 3 } })\n\
             ecs.batch_system('hurt', { 'Position' }, function(view, dt)\n  local x = view.Position.x\n  for i = 0, view.n - 1 do\n    x[i] = x[i] - 2\n  end\nend)\n",
            5,
            "Position.x",
        ),
        (
            "copy.lua",
            "ecs.component('Health', { hp = 3 })\necs.spawn({ Health = {} })\n\
             ecs.batch_system('hurt', { 'Health' }, function(view, dt)\n  local hp = view.Health.hp\n  for i = 0, view.n - 1 do\n    hp[i] = hp[i] - 2\n  end\nend)\n",
            8,
            "Health.hp",
        ),
    ];
    if cfg!(feature = "python") {
        all.push((
            "live.py",
            "import ecs\necs.component('Health', {'hp': 3})\necs.spawn({'Health': {}})\n\
             @ecs.system('hurt', ['Health'])\ndef hurt(id, h, dt):\n    before = h.hp\n    h.hp = h.hp - 2\n    after = h.hp\n",
            7,
            "Health.hp",
        ));
        all.push((
            "set.py",
            "import ecs\necs.component('Health', {'hp': 3})\ne = ecs.spawn({'Health': {}})\n\
             @ecs.system('hurt')\ndef hurt(dt):\n    h = ecs.get(e, 'Health')\n    ecs.set(e, 'Health', {'hp': h['hp'] - 2})\n    done = True\n",
            7,
            "Health.hp",
        ));
        all.push((
            "batch.py",
            "import ecs\necs.component('Health', {'hp': 3})\necs.spawn({'Health': {}})\n\
             @ecs.batch_system('hurt', ['Health'])\ndef hurt(view, dt):\n    hp = view.Health.hp\n    for i in range(view.n):\n        hp[i] = hp[i] - 2\n    done = True\n",
            9,
            "Health.hp",
        ));
    }
    all
}

#[test]
fn data_breakpoints_stop_at_the_writing_line() {
    for (file, source, line, field) in writers() {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.step();
        assert_eq!(rt.error_count(), 0, "{file}: {:?}", rt.drain_events());
        let id = rt.host().borrow().world.ids().next().unwrap();
        rt.apply(RuntimeCommand::AddDataBreakpoint {
            entity: None,
            watch: format!("{field} < 0"),
        })
        .unwrap();
        let seen = on_stop(&rt, Box::new(|_| vec![]));
        rt.drain_events();
        rt.step(); // 1 -> -1: crosses below zero
        rt.step(); // -1 -> -3: was already below
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1, "{file}: {seen:?}");
        let stop = &seen[0].info;
        assert_eq!(stop.reason, "data");
        assert_eq!(
            (stop.file.as_str(), stop.line),
            (format!("scripts/{file}").as_str(), line),
            "{file}: the writing line"
        );
        let data = stop.data.clone().unwrap();
        assert_eq!(
            (data.entity, data.old.as_str(), data.new.as_str()),
            (id, "1", "-1"),
            "{file}"
        );
        let events: Vec<_> = rt
            .drain_events()
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::DataChanged { .. }))
            .collect();
        assert_eq!(events.len(), 1, "{file}: written to the event stream");
    }
}

#[test]
fn a_field_change_on_one_entity_and_bad_targets() {
    let (_dir, mut rt) = common::one_script("live.lua", writers()[0].1);
    rt.step();
    let id = rt.host().borrow().world.ids().next().unwrap();
    for (watch, entity, error) in [
        ("Health.hp changes", Some(id + 100), "was despawned"),
        ("Armor.hp changes", Some(id), "no component 'Armor'"),
        ("Health.mp changes", Some(id), "no field 'mp'"),
        ("Health.hp < lots", None, "not a number"),
    ] {
        let err = rt
            .apply(RuntimeCommand::AddDataBreakpoint {
                entity,
                watch: watch.into(),
            })
            .unwrap_err();
        assert!(err.to_string().contains(error), "{watch}: {err}");
    }
    rt.apply(RuntimeCommand::AddDataBreakpoint {
        entity: Some(id),
        watch: "Health.hp changes".into(),
    })
    .unwrap();
    let seen = on_stop(&rt, Box::new(|_| vec![]));
    rt.step();
    rt.step();
    assert_eq!(seen.borrow().len(), 2, "every change stops");
    // Despawned: the breakpoint says so and stops checking; nothing breaks.
    rt.host().borrow_mut().world.despawn(id);
    rt.step();
    let list = rt.debugger().data_breakpoints();
    assert!(
        list[0].error.as_deref().unwrap().contains("despawned"),
        "{list:?}"
    );
    assert_eq!(rt.error_count(), 0);
}

#[test]
fn track_writes_names_the_last_writer() {
    for (file, source, line, field) in writers() {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.step();
        let id = rt.host().borrow().world.ids().next().unwrap();
        rt.apply(RuntimeCommand::TrackWrites { entity: Some(id) })
            .unwrap();
        rt.step();
        let writers = rt.debugger().writers(id);
        let (component, name) = field.split_once('.').unwrap();
        let w = writers
            .get(&(component.to_string(), name.to_string()))
            .unwrap_or_else(|| panic!("{file}: {writers:?}"));
        assert_eq!(
            (w.file.as_str(), w.line),
            (format!("scripts/{file}").as_str(), line),
            "{file}"
        );
        assert_eq!(w.frame, 1, "{file}");
        assert_eq!(w.context, "system 'hurt'", "{file}");
    }
}

#[test]
fn step_to_next_line_stops_where_the_coroutine_runs_next() {
    let lua = "ecs.start('walker', function()\n  local n = 0\n  while true do\n    n = n + 1\n    ecs.wait_frames(3)\n  end\nend)\n";
    let py = "import ecs\ndef walker():\n    n = 0\n    while True:\n        n += 1\n        yield ecs.wait_frames(3)\necs.start('walker', walker)\n";
    let mut cases = vec![("main.lua", lua, 3)];
    if cfg!(feature = "python") {
        cases.push(("main.py", py, 4));
    }
    for (file, source, line) in cases {
        let (_dir, mut rt) = common::one_script(file, source);
        rt.step();
        let seen = on_stop(&rt, Box::new(|a| vec![a.evaluate(0, "n")]));
        // It waits three frames; the step resumes it now, and stops at the
        // loop's head, the line after the wait.
        rt.apply(RuntimeCommand::StepCoroutineLine { id: 1 })
            .unwrap();
        rt.step();
        rt.step();
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1, "{file}: one stop, then it runs on");
        assert_eq!(seen[0].info.line, line, "{file}");
        assert_eq!(seen[0].info.coroutine, Some(1));
        assert_eq!(value(&seen[0].answers[0]), "1", "{file}");
    }
}

/// Each control from each place a script can stop: a system, a handler, a
/// coroutine and a script's load, in both languages. `body` sits in the
/// same lines in every project; each context calls it.
#[test]
fn every_control_from_every_stop() {
    let lua_body = "local function helper(v)\n  local w = v + 1\n  return w\nend\nlocal function body()\n  local a = 1\n  local b = helper(a)\n  local c = b + 1\nend\n";
    let py_body = "import ecs\ndef helper(v):\n    w = v + 1\n    return w\ndef body():\n    a = 1\n    b = helper(a)\n    c = b + 1\n";
    let lua = [
        ("system", "ecs.system('s', function(dt) body() end)\n"),
        (
            "handler",
            "ecs.on('ping', function(p) body() end)\necs.system('s', function(dt) ecs.emit('ping', {}) end)\n",
        ),
        ("coroutine", "ecs.start('co', function() body() end)\n"),
        ("load", "body()\n"),
    ];
    let py = [
        ("system", "ecs.system('s')(lambda dt: body())\n"),
        (
            "handler",
            "ecs.on('ping')(lambda p: body())\necs.system('s')(lambda dt: ecs.emit('ping', {}))\n",
        ),
        (
            "coroutine",
            "def co():\n    body()\n    yield\necs.start('co', co)\n",
        ),
        ("load", "body()\n"),
    ];
    // (file, body, contexts, [breakpoint, after Step over, after Step
    // into, after Step out])
    let mut languages = vec![("main.lua", lua_body, lua, [6, 7, 2, 8])];
    if cfg!(feature = "python") {
        languages.push(("main.py", py_body, py, [6, 7, 3, 8]));
    }
    for (file, body, contexts, lines) in languages {
        for (context, registration) in contexts {
            let source = format!("{body}{registration}");
            let (_dir, mut rt) = common::one_script(file, &source);
            let path = format!("scripts/{file}");
            rt.apply(RuntimeCommand::SetBreakpoint {
                file: path.clone(),
                line: lines[0],
                on: true,
            })
            .unwrap();
            // (line, reason, context) of each stop.
            type Stops = Rc<RefCell<Vec<(u32, &'static str, String)>>>;
            let seen: Stops = Rc::default();
            let log = Rc::clone(&seen);
            let mut plan = vec![
                DebugAction::StepOver,
                DebugAction::StepInto,
                DebugAction::StepOut,
                DebugAction::Continue,
            ]
            .into_iter();
            rt.debugger().set_handler(Some(Box::new(
                move |info: &BreakInfo, _: &mut dyn FrameAccess| {
                    log.borrow_mut()
                        .push((info.line, info.reason, info.context.clone()));
                    plan.next().unwrap_or(DebugAction::Continue)
                },
            )));
            if context == "load" {
                rt.apply(RuntimeCommand::ReloadScript {
                    script: path.clone(),
                })
                .unwrap();
            } else {
                rt.step();
                rt.step();
            }
            let stops = seen.borrow().clone();
            let got: Vec<(u32, &str)> = stops.iter().map(|(l, r, _)| (*l, *r)).take(4).collect();
            assert_eq!(
                got,
                [
                    (lines[0], "breakpoint"),
                    (lines[1], "step"),
                    (lines[2], "step"),
                    (lines[3], "step"),
                ],
                "{file} {context}: {stops:?}"
            );
            // Continue ran the call to its end: no more stops in it, and the
            // world goes on without errors.
            rt.step();
            assert_eq!(
                rt.error_count(),
                0,
                "{file} {context}: {:?}",
                rt.drain_events()
            );
        }
    }
}
