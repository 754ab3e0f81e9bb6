//! Reading and changing a stopped Lua stack: evaluation in a frame, the
//! children of a table, locals, and setting a local. The locals and
//! upvalues of the frame are copied into tables the prelude's evaluator
//! reads and writes through an environment, then written back.
//!
//! The debugger's hook runs with hooks off (LuaJIT calls no hook inside a
//! hook), so the instruction limit cannot stop an evaluation. Instead the
//! typed code is instrumented: every loop body, label and function body
//! first calls a counter that raises past [`EVALUATION_STEPS`].

use std::ffi::{CStr, c_int};

use mlua::ffi;

use crate::scripting::debugger::{EVALUATION_STEPS, FrameAccess, Variable};

/// Registry key of the prelude's evaluator.
pub const EVALUATE_KEY: &CStr = c"ecscope.evaluate";

/// The counter the instrumented code calls.
const TICK: &str = "__ecscope_tick();";

/// Inserts a call of the step counter after every `do`, `repeat`, label
/// and function parameter list of `code`, outside strings and comments.
pub fn instrument(code: &str) -> String {
    let bytes = code.as_bytes();
    let mut out = String::with_capacity(code.len() + 64);
    let mut i = 0;
    // Inside `function ... (`: the depth of parentheses, once the list opens.
    let mut params: Option<u32> = None;
    let mut in_function = false;
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &code[i..];
        // Comments.
        if let Some(comment) = rest.strip_prefix("--") {
            let end = match long_bracket(comment) {
                Some(level) => close_long(rest, 2, level),
                None => rest.find('\n').unwrap_or(rest.len()),
            };
            out.push_str(&rest[..end]);
            i += end;
            continue;
        }
        // Strings.
        if c == b'"' || c == b'\'' {
            let mut j = 1;
            while j < rest.len() {
                let b = rest.as_bytes()[j];
                if b == b'\\' {
                    j += 2;
                    continue;
                }
                j += 1;
                if b == c || b == b'\n' {
                    break;
                }
            }
            let j = j.min(rest.len());
            out.push_str(&rest[..j]);
            i += j;
            continue;
        }
        if c == b'['
            && let Some(level) = long_bracket(rest)
        {
            let end = close_long(rest, 0, level);
            out.push_str(&rest[..end]);
            i += end;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            let word = &rest[..len];
            out.push_str(word);
            i += len;
            match word {
                "do" | "repeat" => {
                    out.push(' ');
                    out.push_str(TICK);
                }
                "function" => in_function = true,
                _ => {}
            }
            continue;
        }
        if let Some(label) = rest.strip_prefix("::") {
            // A label `::name::` (the goto loop).
            if let Some(end) = label.find("::") {
                let end = end + 4;
                out.push_str(&rest[..end]);
                out.push(' ');
                out.push_str(TICK);
                i += end;
                continue;
            }
        }
        match c {
            b'(' if in_function => {
                *params.get_or_insert(0) += 1;
            }
            b'(' => {}
            b')' => {
                if let Some(depth) = params.as_mut() {
                    *depth -= 1;
                    if *depth == 0 {
                        params = None;
                        in_function = false;
                        out.push_str(") ");
                        out.push_str(TICK);
                        i += 1;
                        continue;
                    }
                }
            }
            _ => {}
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The level of a long bracket `[==[` at the start of `text`.
fn long_bracket(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('[')?;
    let level = rest.bytes().take_while(|b| *b == b'=').count();
    (rest.as_bytes().get(level) == Some(&b'[')).then_some(level)
}

/// The end of a long string or comment opened at `from` in `text`.
fn close_long(text: &str, from: usize, level: usize) -> usize {
    let close = format!("]{}]", "=".repeat(level));
    text[from..]
        .find(&close)
        .map(|at| from + at + close.len())
        .unwrap_or(text.len())
}

/// A stopped stack: `target` holds the frames (a running or a dead
/// coroutine's thread, or the main one); the evaluator runs on `runner`.
pub struct LuaAccess {
    /// The thread whose frames these are.
    pub target: *mut ffi::lua_State,
    /// The thread code runs on (the same, unless `target` is dead).
    pub runner: *mut ffi::lua_State,
    /// The `lua_getstack` level of each script frame, innermost first.
    pub levels: LazyLevels,
}

/// The levels of the script frames: the innermost alone is known at a
/// line (a condition needs no more); the rest are found when asked for.
pub enum LazyLevels {
    /// Only the innermost frame's level is known so far.
    Known(Vec<c_int>),
    /// Every script frame's level.
    All(Vec<c_int>),
}

impl LuaAccess {
    /// Moves the top value of `from` to `to`.
    unsafe fn carry(from: *mut ffi::lua_State, to: *mut ffi::lua_State) {
        if from != to {
            // SAFETY: per this function's callers: both are live threads of
            // one state, `from` has a value on top.
            unsafe { ffi::lua_xmove(from, to, 1) }
        }
    }

    /// Runs the evaluator in `mode` on `code` in `frame`, writing the
    /// frame's locals back afterwards; returns its result on the runner's
    /// stack top (caller pops) or the error.
    unsafe fn run(&mut self, frame: usize, mode: &str, code: &str) -> Result<(), String> {
        if frame > 0
            && let LazyLevels::Known(_) = self.levels
        {
            // SAFETY: the target thread is live while this access is.
            self.levels = LazyLevels::All(unsafe { super::hook::script_levels(self.target) });
        }
        let levels = match &self.levels {
            LazyLevels::Known(l) | LazyLevels::All(l) => l,
        };
        let Some(&level) = levels.get(frame) else {
            return Err(format!("there is no frame {frame}"));
        };
        let (t, r) = (self.target, self.runner);
        // SAFETY: both threads are live (the hook or error handler that
        // made this access is still running); every push is popped.
        unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(t, level, &mut ar) == 0 {
                return Err("the frame has returned".into());
            }
            if ffi::lua_checkstack(r, 24) == 0 {
                return Err("the Lua stack is full".into());
            }
            let base = ffi::lua_gettop(r);
            ffi::lua_createtable(r, 8, 0); // base+1: local names
            ffi::lua_createtable(r, 8, 0); // base+2: local values
            let mut locals = Vec::new();
            for n in 1..250 {
                let name = ffi::lua_getlocal(t, &ar, n);
                if name.is_null() {
                    break;
                }
                let name = CStr::from_ptr(name).to_bytes().to_vec();
                Self::carry(t, r);
                if name.first() == Some(&b'(') {
                    ffi::lua_settop(r, -2);
                    continue;
                }
                locals.push(n);
                let k = locals.len();
                ffi::lua_rawseti(r, base + 2, k as i64);
                ffi::lua_pushlstring(r, name.as_ptr() as *const _, name.len());
                ffi::lua_rawseti(r, base + 1, k as i64);
            }
            ffi::lua_createtable(r, 4, 0); // base+3: upvalue names
            ffi::lua_createtable(r, 4, 0); // base+4: upvalue values
            ffi::lua_getinfo(t, c"f".as_ptr(), &mut ar);
            Self::carry(t, r); // base+5: the function
            let mut upvalues = 0;
            for i in 1..250 {
                let name = ffi::lua_getupvalue(r, base + 5, i);
                if name.is_null() {
                    break;
                }
                let name = CStr::from_ptr(name).to_bytes().to_vec();
                upvalues = i;
                ffi::lua_rawseti(r, base + 4, i as i64);
                ffi::lua_pushlstring(r, name.as_ptr() as *const _, name.len());
                ffi::lua_rawseti(r, base + 3, i as i64);
            }
            ffi::lua_getfield(r, ffi::LUA_REGISTRYINDEX, EVALUATE_KEY.as_ptr());
            let instrumented = instrument(code);
            for text in [mode, code, instrumented.as_str()] {
                ffi::lua_pushlstring(r, text.as_ptr() as *const _, text.len());
            }
            for index in 1..=5 {
                ffi::lua_pushvalue(r, base + index);
            }
            ffi::lua_pushnumber(r, EVALUATION_STEPS as f64);
            if ffi::lua_pcall(r, 9, 2, 0) != 0 {
                let error = text_at(r, -1);
                ffi::lua_settop(r, base);
                return Err(error);
            }
            // base+6: ok, base+7: result or error.
            let ok = ffi::lua_toboolean(r, base + 6) != 0;
            if ok && mode == "eval" {
                for (k, &n) in locals.iter().enumerate() {
                    ffi::lua_rawgeti(r, base + 2, k as i64 + 1);
                    Self::carry_back(r, t);
                    ffi::lua_setlocal(t, &ar, n);
                }
                for i in 1..=upvalues {
                    ffi::lua_rawgeti(r, base + 4, i as i64);
                    ffi::lua_setupvalue(r, base + 5, i);
                }
            }
            if !ok {
                let error = text_at(r, base + 7);
                ffi::lua_settop(r, base);
                return Err(error);
            }
            // Leave only the result above `base`.
            ffi::lua_replace(r, base + 1);
            ffi::lua_settop(r, base + 1);
            Ok(())
        }
    }

    /// Moves the top value of `from` (the runner) to `to` (the target).
    unsafe fn carry_back(from: *mut ffi::lua_State, to: *mut ffi::lua_State) {
        // SAFETY: as for `carry`.
        unsafe { Self::carry(from, to) }
    }
}

/// The string at `index` (or a placeholder).
unsafe fn text_at(state: *mut ffi::lua_State, index: c_int) -> String {
    // SAFETY: reads a value on a live state's stack.
    unsafe {
        let mut len = 0usize;
        let s = ffi::lua_tolstring(state, index, &mut len);
        if s.is_null() {
            return "an error that is not text".into();
        }
        String::from_utf8_lossy(std::slice::from_raw_parts(s as *const u8, len)).into_owned()
    }
}

/// A record `{name, value, type, expr, expandable, truthy}` at `index`.
unsafe fn record_at(state: *mut ffi::lua_State, index: c_int) -> Variable {
    // SAFETY: balanced reads of a table on a live state.
    unsafe {
        let index = if index < 0 {
            ffi::lua_gettop(state) + index + 1
        } else {
            index
        };
        let field = |k: c_int| {
            ffi::lua_rawgeti(state, index, k as i64);
            let text = if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
                text_at(state, -1)
            } else {
                String::new()
            };
            let flag = ffi::lua_toboolean(state, -1) != 0;
            ffi::lua_settop(state, -2);
            (text, flag)
        };
        Variable {
            name: field(1).0,
            value: field(2).0,
            type_name: field(3).0,
            expr: field(4).0,
            expandable: field(5).1,
            truthy: field(6).1,
        }
    }
}

/// The records of a list at the top of the stack.
unsafe fn records_on_top(state: *mut ffi::lua_State) -> Vec<Variable> {
    let mut out = Vec::new();
    // SAFETY: balanced reads of a table on a live state.
    unsafe {
        for k in 1i64.. {
            ffi::lua_rawgeti(state, -1, k);
            if ffi::lua_type(state, -1) != ffi::LUA_TTABLE {
                ffi::lua_settop(state, -2);
                break;
            }
            out.push(record_at(state, -1));
            ffi::lua_settop(state, -2);
        }
    }
    out
}

impl FrameAccess for LuaAccess {
    fn is_true(&mut self, frame: usize, code: &str) -> Result<bool, String> {
        // SAFETY: see `run`; the result is popped.
        unsafe {
            self.run(frame, "test", code)?;
            let truthy = ffi::lua_toboolean(self.runner, -1) != 0;
            ffi::lua_settop(self.runner, -2);
            Ok(truthy)
        }
    }

    fn evaluate(&mut self, frame: usize, code: &str) -> Result<Variable, String> {
        // SAFETY: see `run`; the result is popped.
        unsafe {
            self.run(frame, "eval", code)?;
            let variable = record_at(self.runner, -1);
            ffi::lua_settop(self.runner, -2);
            Ok(variable)
        }
    }

    fn children(&mut self, frame: usize, expr: &str) -> Result<Vec<Variable>, String> {
        // SAFETY: see `run`; the result is popped.
        unsafe {
            self.run(frame, "children", expr)?;
            let list = records_on_top(self.runner);
            ffi::lua_settop(self.runner, -2);
            Ok(list)
        }
    }

    fn locals(&mut self, frame: usize) -> Result<Vec<Variable>, String> {
        // SAFETY: see `run`; the result is popped.
        unsafe {
            self.run(frame, "locals", "")?;
            let list = records_on_top(self.runner);
            ffi::lua_settop(self.runner, -2);
            Ok(list)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::instrument;

    #[test]
    fn loops_labels_and_functions_count() {
        assert_eq!(
            instrument("while true do end"),
            "while true do __ecscope_tick(); end"
        );
        assert_eq!(
            instrument("repeat x = 1 until false"),
            "repeat __ecscope_tick(); x = 1 until false"
        );
        assert_eq!(
            instrument("local function f(a, b) return f(a) end"),
            "local function f(a, b) __ecscope_tick(); return f(a) end"
        );
        assert_eq!(
            instrument("::top:: goto top"),
            "::top:: __ecscope_tick(); goto top"
        );
        // Strings and comments are left alone.
        assert_eq!(instrument("'do' -- do\n"), "'do' -- do\n");
        assert_eq!(instrument("[[do]] --[[ do ]]"), "[[do]] --[[ do ]]");
        assert_eq!(instrument("x.done"), "x.done");
    }
}
