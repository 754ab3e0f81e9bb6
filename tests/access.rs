//! Declared access (SCRIPT_API §5): a system that lists `reads`/`writes`
//! may touch only those components (and its query's), in Lua and Python
//! alike; what it lists is checked where it registers.

mod common;

use ecscope::runtime::RuntimeEvent;

/// Runs a one-script project for a few frames; its errors as
/// `script:line: message`.
fn errors_of(file: &str, source: &str) -> Vec<String> {
    let (_dir, mut runtime) = common::one_script(file, source);
    let mut events: Vec<RuntimeEvent> = runtime.drain_events();
    for _ in 0..3 {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    common::errors(&events)
}

fn has(errors: &[String], wanted: &str) -> bool {
    errors.iter().any(|e| e.contains(wanted))
}

const LUA_WORLD: &str = r#"ecs.component("Target", { x = 0.0 })
ecs.component("Clock", { t = 0.0 })
ecs.spawn({ Position = { x = 1 }, Velocity = { x = 2 }, Target = { x = 3 }, Clock = {} })
"#;

#[test]
fn lua_reads_what_it_declares_and_is_stopped_at_the_line_otherwise() {
    let source = format!(
        "{LUA_WORLD}ecs.system(\"steer\", {{ \"Position\" }}, function(id, pos, dt)
  local t = ecs.get(id, \"Target\")
  pos.x = t.x
  local v = ecs.get(id, \"Velocity\")
end, {{ reads = {{ \"Target\" }} }})
"
    );
    let errors = errors_of("main.lua", &source);
    assert!(
        has(&errors, "main.lua:7: ") && has(&errors, "system 'steer' does not declare Velocity"),
        "{errors:?}"
    );
    assert_eq!(
        errors.len(),
        1,
        "the system is disabled after its error: {errors:?}"
    );
}

#[test]
fn lua_refuses_assigning_what_it_lists_under_reads() {
    let source = format!(
        "{LUA_WORLD}ecs.system(\"look\", {{ \"Position\" }}, function(id, pos, dt)
  local x = pos.x
  pos.x = x + 1
end, {{ reads = {{ \"Position\" }} }})
ecs.system(\"set\", {{ \"Velocity\" }}, function(id, vel, dt)
  ecs.set(id, \"Target\", {{ x = 1 }})
end, {{ reads = {{ \"Target\" }} }})
ecs.system(\"loop\", function(dt)
  for id, t in ecs.query({{ \"Target\" }}) do t.x = 5 end
end, {{ reads = {{ \"Target\" }} }})
"
    );
    let errors = errors_of("main.lua", &source);
    assert!(
        has(&errors, "main.lua:6: ")
            && has(
                &errors,
                "lists Position under reads: it cannot assign Position.x"
            ),
        "{errors:?}"
    );
    assert!(
        has(&errors, "main.lua:9: ")
            && has(
                &errors,
                "system 'set' lists Target under reads: to change it, list it under writes"
            ),
        "{errors:?}"
    );
    assert!(
        has(&errors, "main.lua:12: ")
            && has(
                &errors,
                "lists Target under reads: it cannot assign Target.x"
            ),
        "{errors:?}"
    );
}

#[test]
fn lua_fn_dt_form_with_writes_and_the_calls_that_are_checked() {
    let source = format!(
        "{LUA_WORLD}ecs.system(\"tick\", function(dt)
  for id, c in ecs.query({{ \"Clock\" }}) do c.t = c.t + dt end
  assert(ecs.has(1, \"Clock\"))
  ecs.spawn({{ Clock = {{}} }})
  ecs.count({{ \"Position\" }})
end, {{ writes = {{ \"Clock\" }} }})
ecs.system(\"spawner\", function(dt)
  ecs.spawn({{ Clock = {{}}, Position = {{}} }})
end, {{ writes = {{ \"Clock\" }} }})
ecs.system(\"remover\", function(dt)
  ecs.remove(1, \"Velocity\")
end, {{ writes = {{}} }})
ecs.system(\"free\", function(dt)
  ecs.set(1, \"Velocity\", {{ x = 9 }})
end)
"
    );
    let errors = errors_of("main.lua", &source);
    assert!(
        has(&errors, "main.lua:8: ") && has(&errors, "system 'tick' does not declare Position"),
        "{errors:?}"
    );
    assert!(
        has(&errors, "main.lua:11: ")
            && has(
                &errors,
                "system 'spawner' does not declare Position: list it under writes"
            ),
        "{errors:?}"
    );
    assert!(
        has(&errors, "main.lua:14: ") && has(&errors, "system 'remover' does not declare Velocity"),
        "{errors:?}"
    );
    assert_eq!(
        errors.len(),
        3,
        "a system that declares nothing is not checked: {errors:?}"
    );
}

#[test]
fn lua_declarations_are_checked_where_the_system_registers() {
    let errors = errors_of(
        "main.lua",
        "ecs.system(\"a\", { \"Position\" }, function() end, { reads = { \"Nope\" } })\n",
    );
    assert!(
        has(&errors, "main.lua:1: ") && has(&errors, "unknown component \"Nope\""),
        "{errors:?}"
    );
    let errors = errors_of(
        "main.lua",
        "\necs.system(\"a\", function() end, { writes = \"Position\" })\n",
    );
    assert!(
        has(&errors, "main.lua:2: ") && has(&errors, "writes must be a list of component names"),
        "{errors:?}"
    );
}

#[test]
fn lua_refuses_options_that_would_leave_a_system_unchecked() {
    let cases = [
        (
            "ecs.system(\"a\", function() end, { read = { \"Position\" } })\n",
            "unknown option \"read\" (options: without, reads, writes)",
        ),
        (
            "ecs.system(\"a\", function() end, { reads = { Position = true } })\n",
            "reads must be a list of component names",
        ),
        (
            "ecs.system(\"a\", function() end, { writes = { \"Position\", nil, \"Velocity\" } })\n",
            "writes must be a list of component names",
        ),
        (
            "ecs.system(\"a\", function() end, 5)\n",
            "opts must be a table such as",
        ),
        (
            "ecs.system(\"a\", function() end, { reads = { \"Targt\" } })\n",
            "reads: unknown component \"Targt\"",
        ),
    ];
    for (source, wanted) in cases {
        let errors = errors_of("main.lua", source);
        assert!(
            has(&errors, "main.lua:1: ") && has(&errors, wanted),
            "{source}: {errors:?}"
        );
    }
}

#[test]
fn python_says_reads_is_a_keyword_when_given_in_the_options_dict() {
    let errors = errors_of(
        "main.py",
        "import ecs\n\n\n@ecs.system(\"a\", [\"Position\"], None, {\"reads\": [\"Position\"]})\ndef a(id, pos, dt):\n    pass\n",
    );
    assert!(
        has(&errors, "main.py:4: ") && has(&errors, "reads is a keyword in Python: reads=[...]"),
        "{errors:?}"
    );
}

const PY_WORLD: &str = "import ecs

ecs.component(\"Target\", {\"x\": 0.0})
ecs.spawn({\"Position\": {\"x\": 1}, \"Velocity\": {\"x\": 2}, \"Target\": {\"x\": 3}})
";

#[test]
fn python_declares_with_keywords_and_is_checked_the_same_way() {
    let source = format!(
        "{PY_WORLD}

@ecs.system(\"steer\", [\"Position\"], reads=[\"Target\"])
def steer(id, pos, dt):
    pos.x = ecs.get(id, \"Target\")[\"x\"]
    ecs.get(id, \"Velocity\")


@ecs.system(\"look\", [\"Position\", \"Target\"], reads=[\"Target\"])
def look(id, pos, target, dt):
    target.x = pos.x


@ecs.system(\"free\", [\"Velocity\"])
def free(id, vel, dt):
    ecs.set(id, \"Target\", {{\"x\": 1}})
"
    );
    let errors = errors_of("main.py", &source);
    assert!(
        has(&errors, "main.py:10: ") && has(&errors, "system 'steer' does not declare Velocity"),
        "{errors:?}"
    );
    assert!(
        has(&errors, "main.py:15: ")
            && has(
                &errors,
                "lists Target under reads: it cannot assign Target.x"
            ),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn python_declarations_are_checked_where_the_system_registers() {
    let errors = errors_of(
        "main.py",
        "import ecs\n\n\n@ecs.system(\"a\", [\"Position\"], writes=\"Position\")\ndef a(id, pos, dt):\n    pass\n",
    );
    assert!(
        has(&errors, "main.py:4: ") && has(&errors, "writes must be a list of component names"),
        "{errors:?}"
    );
    let errors = errors_of(
        "main.py",
        "import ecs\n\n\n@ecs.system(\"a\", [\"Position\"], reads=[\"Nope\"])\ndef a(id, pos, dt):\n    pass\n",
    );
    assert!(
        has(&errors, "main.py:4: ") && has(&errors, "unknown component \"Nope\""),
        "{errors:?}"
    );
}

#[test]
fn batch_arrays_of_what_a_system_reads_refuse_writes_in_both_languages() {
    let lua = format!(
        "{LUA_WORLD}ecs.batch_system(\"drift\", {{ \"Position\", \"Velocity\" }}, function(view, dt)
  for i = 0, view.n - 1 do
    view.Position.x[i] = view.Position.x[i] + view.Velocity.x[i]
    view.Velocity.x[i] = 0
  end
end, {{ reads = {{ \"Velocity\" }} }})
"
    );
    let errors = errors_of("main.lua", &lua);
    assert!(
        has(&errors, "main.lua:7: ") && has(&errors, "view.Velocity.x is read-only"),
        "{errors:?}"
    );
    let python = format!(
        "{PY_WORLD}

@ecs.batch_system(\"drift\", [\"Position\", \"Velocity\"], reads=[\"Velocity\"])
def drift(view, dt):
    view.Position.x[0] = view.Position.x[0] + view.Velocity.x[0]
    view.Velocity.x[0] = 0
"
    );
    let errors = errors_of("main.py", &python);
    assert!(
        has(&errors, "main.py:10: ") && has(&errors, "read-only"),
        "{errors:?}"
    );
}
