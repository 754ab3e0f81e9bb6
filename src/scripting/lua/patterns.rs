//! Lua 5.1 patterns in Rust for `string.find`, `string.match`,
//! `string.gmatch` and `string.gsub`, with a step budget.
//!
//! LuaJIT's own matcher runs in C, where the debug hook that enforces a
//! script's instruction budget never fires: `("a"):rep(1e5):find(".-.-.-x")`
//! backtracks for hours and takes the process with it. The functions
//! installed here follow the semantics of Lua 5.1 patterns (manual §5.4.1,
//! as LuaJIT 2.1 implements them, errors included) but count their steps,
//! ask a check callback every [`CHECK_EVERY`] steps whether to go on, and
//! give up after [`MAX_STEPS`] steps whatever the callback says.
//!
//! The matcher keeps its backtracking points on an explicit stack (never
//! the Rust stack) that mirrors the recursion of the C matcher, so that the
//! same patterns hit the same nesting limit ([`MAX_DEPTH`]).
//!
//! Each function is a Rust callback behind a small Lua wrapper (see
//! [`GLUE`]): errors travel back to the wrapper as values and are raised
//! there with `error`, so that scripts catching them with `pcall` get a
//! string, as with the originals, and not one of mlua's error objects.

use std::cell::Cell;
use std::rc::Rc;

use mlua::{BString, FromLua, Function, Lua, LuaString, Table, Value, Variadic};

/// Steps between two calls of the check callback.
pub const CHECK_EVERY: u64 = 4096;

/// Steps one call may take at most, whatever the check callback says.
/// Around half a second of matching.
pub const MAX_STEPS: u64 = 200_000_000;

/// Nesting limit of the matcher, as LuaJIT's (`LJ_MAX_XLEVEL`): each
/// pending quantifier or capture is one level.
pub const MAX_DEPTH: usize = 200;

/// gmatch rounds found per call into Rust.
const GMATCH_BATCH: usize = 32;

/// Captures per pattern, as Lua's `LUA_MAXCAPTURES`.
const MAX_CAPTURES: usize = 32;

/// The gsub result is handed to Lua (and so to its memory limit) in pieces
/// of this size, so that a hostile replacement cannot grow a Rust buffer
/// past the script's heap limit.
const FLUSH_BYTES: usize = 1 << 20;

/// The check callback: `Err(message)` stops the match and raises
/// `message` in the script.
pub type Check = Rc<dyn Fn() -> Result<(), String>>;

/// The Lua side: wrappers that turn error values into errors, and send
/// the common argument types to typed entry points (mlua converts typed
/// arguments at half the cost of generic values).
///
/// A Rust callback answers `false, error` to have `error` raised (never a
/// legitimate first result: these functions return `nil`, numbers,
/// strings or functions first). `nil` as second result means one value.
/// The generic entry points take `...` as it came, so that their argument
/// errors can tell a missing value from `nil`.
const GLUE: &str = r#"
local string, error, type, unpack, sub, find, ffind, match, fmatch, gsub, fgsub, gcheck, gnext, c_find = ...
-- A plain search (or a pattern with no special character) costs LuaJIT's
-- own C search at most #s * #p steps: short ones go there, at its speed.
local PLAIN_CHEAP, SPECIALS = 1000000, "[%^%$%*%+%?%.%(%)%[%]%%%-]"
local function out(a, b, ...)
  if a == false then error(b, 0) end
  if b == nil then return a end
  return a, b, ...
end
string.find = function(...)
  local s, p, init, plain = ...
  if type(s) == "string" and type(p) == "string" and (init == nil or type(init) == "number") then
    if #s * #p <= PLAIN_CHEAP and (plain or not c_find(p, SPECIALS)) then
      return c_find(s, p, init, plain)
    end
    return out(ffind(s, p, init, plain and true or false))
  end
  return out(find(...))
end
string.match = function(...)
  local s, p, init = ...
  if type(s) == "string" and type(p) == "string" and (init == nil or type(init) == "number") then
    return out(fmatch(s, p, init))
  end
  return out(match(...))
end
string.gsub = function(...)
  local s, p, repl, n = ...
  if type(s) == "string" and type(p) == "string" and (n == nil or type(n) == "number") then
    return out(fgsub(s, p, repl, n))
  end
  return out(gsub(...))
end
-- The iterator's state lives here. `gnext` answers a batch of matches
-- (one Rust call per round costs more than a round): the position after
-- them, their count, the values per match (0: one string per match, sent
-- as a byte span for `sub`, cheaper than a string made through mlua),
-- then the values. One table holds a loop's state (cheaper to make than
-- five upvalues): position, rounds handed out, rounds in the batch,
-- width, batch.
local function refill(st, next_pos, n, w, ...)
  if next_pos == false then error(n, 0) end
  if next_pos == nil then return false end
  st[1], st[2], st[3], st[4], st[5] = next_pos, 0, n, w, { ... }
  return true
end
string.gmatch = function(...)
  local s, p = ...
  if type(s) ~= "string" or type(p) ~= "string" then s, p = out(gcheck(...)) end
  local st = { 0, 0, 0, 1, false }
  return function()
    if st[2] == st[3] and not refill(st, gnext(s, p, st[1])) then return end
    local at, w, buf = st[2] + 1, st[4], st[5]
    st[2] = at
    if w == 0 then return sub(s, buf[2 * at - 1], buf[2 * at]) end
    if w == 1 then return buf[at] end
    return unpack(buf, (at - 1) * w + 1, at * w)
  end
end
"#;

/// Calls `f(...)` or indexes `t[k]` in protected mode, for gsub's
/// replacement functions and tables with metamethods: whatever they raise
/// is raised again unchanged.
const PROTECT: &str = r#"
local pcall = ...
return function(f, ...) return pcall(f, ...) end,
  function(t, k) return pcall(function() return t[k] end) end
"#;

/// Replaces `string.find`, `string.match`, `string.gmatch` and
/// `string.gsub` in `lua` with budgeted versions.
///
/// `check` is called every [`CHECK_EVERY`] matching steps, counted across
/// calls (so that many small calls are seen too); when it returns
/// `Err(message)` the call stops and raises `message` (prefixed with the
/// calling script's `file:line: `, like every error of these functions).
/// A call stops anyway after [`MAX_STEPS`] steps with "pattern too
/// complex: ...". Method calls (`s:find(...)`) go through the string
/// metatable's `__index`, which is the `string` table, so they are covered
/// too.
pub fn install(lua: &Lua, check: Check) -> mlua::Result<()> {
    let string: Table = lua.globals().get("string")?;
    let sub: Function = string.get("sub")?;
    let c_find: Function = string.get("find")?;
    let pcall: Function = lua.globals().get("pcall")?;
    let (call, index): (Function, Function) = lua
        .load(PROTECT)
        .set_name("=ecscope patterns")
        .call(pcall)?;
    let shared = Rc::new(Shared {
        check,
        left: Cell::new(CHECK_EVERY as i64),
        frames: Cell::new(Vec::new()),
        call,
        index,
    });

    let sh = Rc::clone(&shared);
    let find = lua.create_function(move |lua, (s, p, init, plain): Args4| {
        let run = || {
            let (s, p) = (check_string(lua, 1, s)?, check_string(lua, 2, p)?);
            let init = opt_number(lua, 3, &init)?;
            let plain = !matches!(plain.value(), Value::Nil | Value::Boolean(false));
            find_or_match(
                lua,
                &sh,
                &s.as_bytes(),
                &p.as_bytes(),
                init,
                plain,
                Mode::Find,
            )
        };
        reply(lua, run())
    })?;
    let sh = Rc::clone(&shared);
    let ffind = lua.create_function(move |lua, (s, p, init, plain): FastArgs| {
        let result = find_or_match(lua, &sh, &s.as_bytes(), &p, init, plain, Mode::Find);
        reply(lua, result)
    })?;
    let sh = Rc::clone(&shared);
    let r#match = lua.create_function(move |lua, (s, p, init): (Arg, Arg, Arg)| {
        let run = || {
            let (s, p) = (check_string(lua, 1, s)?, check_string(lua, 2, p)?);
            let init = opt_number(lua, 3, &init)?;
            find_or_match(
                lua,
                &sh,
                &s.as_bytes(),
                &p.as_bytes(),
                init,
                false,
                Mode::Match,
            )
        };
        reply(lua, run())
    })?;
    let sh = Rc::clone(&shared);
    let fmatch = lua.create_function(
        move |lua, (s, p, init): (LuaString, BString, Option<f64>)| {
            let result = find_or_match(lua, &sh, &s.as_bytes(), &p, init, false, Mode::Match);
            reply(lua, result)
        },
    )?;
    let sh = Rc::clone(&shared);
    let gsub = lua.create_function(move |lua, (s, p, repl, max): Args4| {
        let run = || {
            // Checked in Lua's order: 1, 2, 4, then 3.
            let (s, p) = (check_string(lua, 1, s)?, check_string(lua, 2, p)?);
            let max = opt_number(lua, 4, &max)?;
            str_gsub(lua, &sh, &s.as_bytes(), &p.as_bytes(), repl.value(), max)
        };
        reply(lua, run())
    })?;
    let sh = Rc::clone(&shared);
    let fgsub = lua.create_function(
        move |lua, (s, p, repl, max): (LuaString, BString, Value, Option<f64>)| {
            reply(lua, str_gsub(lua, &sh, &s.as_bytes(), &p, &repl, max))
        },
    )?;
    let gcheck = lua.create_function(move |lua, (s, p): (Arg, Arg)| {
        let run = || {
            let (s, p) = (check_string(lua, 1, s)?, check_string(lua, 2, p)?);
            Ok((Value::String(s), Value::String(p), Variadic::new()))
        };
        reply(lua, run())
    })?;
    let sh = shared;
    let gnext = lua.create_function(move |lua, (s, p, pos): (LuaString, BString, i64)| {
        reply(lua, gmatch_next(lua, &sh, &s.as_bytes(), &p, pos))
    })?;
    lua.load(GLUE).set_name("=ecscope patterns").call::<()>((
        string,
        lua.globals().get::<Function>("error")?,
        lua.globals().get::<Function>("type")?,
        lua.globals().get::<Function>("unpack")?,
        sub,
        find,
        ffind,
        r#match,
        fmatch,
        (gsub, fgsub, gcheck, gnext, c_find),
    ))
}

/// What the four functions share.
struct Shared {
    check: Check,
    /// Steps left before the next check, carried from call to call.
    left: Cell<i64>,
    /// The matcher's stack, kept between calls so that a call allocates
    /// nothing; a nested call (from a gsub replacement function) finds it
    /// taken and starts its own.
    frames: Cell<Vec<Frame>>,
    /// `pcall(f, ...)`.
    call: Function,
    /// `pcall(function() return t[k] end)`.
    index: Function,
}

// ---------------------------------------------------------------------------
// The matcher

/// Why a call stopped without a result.
enum Stop {
    /// Raised in the script as `file:line: message`.
    Error(String),
    /// A value a replacement function or `__index` raised: raised again
    /// as it is.
    Thrown(Value),
    /// mlua's own failure (out of memory): passed on.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Stop {
        Stop::Lua(e)
    }
}

fn error<T>(message: &str) -> Result<T, Stop> {
    Err(Stop::Error(message.to_string()))
}

/// Counts steps and calls the check callback.
struct Meter<'c> {
    /// Steps left before the next check.
    left: i64,
    /// Steps counted at earlier checks.
    spent: u64,
    check: &'c dyn Fn() -> Result<(), String>,
}

impl<'c> Meter<'c> {
    /// A meter for one call, going on from where the last call left the
    /// countdown to the next check.
    fn new(sh: &'c Shared) -> Meter<'c> {
        Meter {
            left: sh.left.get(),
            spent: 0,
            check: &*sh.check,
        }
    }

    /// Hands the countdown back to the next call.
    fn finish(&self, sh: &Shared) {
        sh.left.set(self.left);
    }

    #[inline(always)]
    fn charge(&mut self, steps: usize) -> Result<(), Stop> {
        self.left -= steps as i64;
        if self.left < 0 {
            self.next_interval()
        } else {
            Ok(())
        }
    }

    #[cold]
    #[inline(never)]
    fn next_interval(&mut self) -> Result<(), Stop> {
        // One charge may span several intervals (a long scan): the check
        // runs once, the hard cap sees all of them.
        let intervals = (-self.left) as u64 / CHECK_EVERY + 1;
        self.spent += intervals * CHECK_EVERY;
        self.left += (intervals * CHECK_EVERY) as i64;
        if self.spent >= MAX_STEPS {
            return Err(Stop::Error(format!(
                "pattern too complex: more than {MAX_STEPS} steps (a pattern with several \
                 '-' or '*' over a long string backtracks exponentially)"
            )));
        }
        (self.check)().map_err(Stop::Error)
    }
}

/// `len` of a capture still open.
const CAP_UNFINISHED: isize = -1;
/// `len` of a position capture `()`.
const CAP_POSITION: isize = -2;

#[derive(Clone, Copy)]
struct Capture {
    start: usize,
    /// Length, or [`CAP_UNFINISHED`] or [`CAP_POSITION`].
    len: isize,
}

/// A suspended level of the matcher: what it does when the rest of the
/// pattern, tried from it, fails. Each is one recursive call of the C
/// matcher, so the stack's length is its nesting depth.
#[derive(Clone, Copy)]
enum Frame {
    /// `x*` or `x+`: the rest was tried after `count` repetitions from
    /// `base`; on failure, one fewer.
    Greedy {
        base: usize,
        count: usize,
        next: usize,
    },
    /// `x-`: the rest was tried at `at`; on failure, one more `x` (the
    /// item at `item`, its class ending at `end`).
    Lazy { at: usize, item: usize, end: usize },
    /// `x?` matched one char at `at`: on failure, go on at `at` without
    /// it, with the pattern at `next`.
    Optional { at: usize, next: usize },
    /// A capture was opened: on failure, drop it.
    Open,
    /// Capture `index` was closed: on failure, it is open again.
    Close { index: usize },
}

/// One capture's value.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cap {
    /// Bytes `start..end` of the subject.
    Str(usize, usize),
    /// A position capture: the 0-based offset.
    Pos(usize),
}

/// Character classes of the C locale, one bit each.
const ALPHA: u8 = 1;
const DIGIT: u8 = 2;
const LOWER: u8 = 4;
const UPPER: u8 = 8;
const SPACE: u8 = 16;
const PUNCT: u8 = 32;
const CNTRL: u8 = 64;
const XDIGIT: u8 = 128;

const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut bits = 0;
        if b.is_ascii_alphabetic() {
            bits |= ALPHA;
        }
        if b.is_ascii_digit() {
            bits |= DIGIT;
        }
        if b.is_ascii_lowercase() {
            bits |= LOWER;
        }
        if b.is_ascii_uppercase() {
            bits |= UPPER;
        }
        // C's isspace includes \v, which Rust's is_ascii_whitespace lacks.
        if b == b' ' || (b >= 9 && b <= 13) {
            bits |= SPACE;
        }
        if b.is_ascii_punctuation() {
            bits |= PUNCT;
        }
        if b.is_ascii_control() {
            bits |= CNTRL;
        }
        if b.is_ascii_hexdigit() {
            bits |= XDIGIT;
        }
        t[c] = bits;
        c += 1;
    }
    t
};

/// Whether `c` is in class `%cl` (`cl` the letter; any other char stands
/// for itself).
#[inline]
fn match_class(c: u8, cl: u8) -> bool {
    let bits = match cl | 0x20 {
        b'a' => ALPHA,
        b'c' => CNTRL,
        b'd' => DIGIT,
        b'l' => LOWER,
        b'p' => PUNCT,
        b's' => SPACE,
        b'u' => UPPER,
        b'w' => ALPHA | DIGIT,
        b'x' => XDIGIT,
        b'z' => 0,
        // Only 'A'-'Z' fold onto 'a'-'z' with `| 0x20`, so any other byte
        // lands here and stands for itself.
        _ => return cl == c,
    };
    let found = if bits == 0 {
        c == 0
    } else {
        CLASSES[c as usize] & bits != 0
    };
    found != cl.is_ascii_uppercase()
}

/// A match of one pattern over one subject.
struct Matcher<'a, 'c> {
    src: &'a [u8],
    /// The pattern up to its first NUL, where C Lua's matcher sees its end.
    pat: &'a [u8],
    level: usize,
    caps: [Capture; MAX_CAPTURES],
    frames: Vec<Frame>,
    meter: Meter<'c>,
}

impl<'a, 'c> Matcher<'a, 'c> {
    fn new(src: &'a [u8], pat: &'a [u8], frames: Vec<Frame>, meter: Meter<'c>) -> Self {
        let pat = match pat.iter().position(|&b| b == 0) {
            Some(nul) => &pat[..nul],
            None => pat,
        };
        Matcher {
            src,
            pat,
            level: 0,
            caps: [Capture { start: 0, len: 0 }; MAX_CAPTURES],
            frames,
            meter,
        }
    }

    /// The pattern byte at `i`, 0 past the end (C's terminator).
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    /// Where the single-char class starting at `p` ends.
    fn class_end(&self, p: usize) -> Result<usize, Stop> {
        let pat = self.pat;
        let mut p = p + 1;
        match pat[p - 1] {
            b'%' => {
                if p >= pat.len() {
                    return error("malformed pattern (ends with '%')");
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.at(p) == b'^' {
                    p += 1;
                }
                // The first char is part of the set even if it is ']'.
                loop {
                    if p >= pat.len() {
                        return error("malformed pattern (missing ']')");
                    }
                    let c = pat[p];
                    p += 1;
                    if c == b'%' && p < pat.len() {
                        p += 1;
                    }
                    if self.at(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    /// Whether `c` is in the set `[...]` at `p..=close`.
    fn match_set(&self, c: u8, p: usize, close: usize) -> bool {
        let pat = self.pat;
        let mut p = p + 1;
        let mut hit = true;
        if pat[p] == b'^' {
            hit = false;
            p += 1;
        }
        while p < close {
            if pat[p] == b'%' {
                p += 1;
                if match_class(c, pat[p]) {
                    return hit;
                }
                p += 1;
            } else if pat[p + 1] == b'-' && p + 2 < close {
                if pat[p] <= c && c <= pat[p + 2] {
                    return hit;
                }
                p += 3;
            } else {
                if pat[p] == c {
                    return hit;
                }
                p += 1;
            }
        }
        !hit
    }

    /// Whether `c` matches the single-char class at `p..end`.
    #[inline]
    fn single(&self, c: u8, p: usize, end: usize) -> bool {
        match self.pat[p] {
            b'.' => true,
            b'%' => match_class(c, self.pat[p + 1]),
            b'[' => self.match_set(c, p, end - 1),
            lit => lit == c,
        }
    }

    /// The index of the capture a `)` closes.
    fn capture_to_close(&self) -> Result<usize, Stop> {
        match (0..self.level)
            .rev()
            .find(|&l| self.caps[l].len == CAP_UNFINISHED)
        {
            Some(l) => Ok(l),
            None => error("invalid pattern capture"),
        }
    }

    /// Matches the pattern from `p` against the subject from `s`: the end
    /// of the match, with the captures in `caps[..level]`.
    fn run(&mut self, s: usize, p: usize) -> Result<Option<usize>, Stop> {
        let src = self.src;
        let pat = self.pat;
        self.level = 0;
        self.frames.clear();
        let (mut s, mut p) = (s, p);
        // False when a level resumes after a failed alternative instead of
        // being entered anew (no depth check then).
        let mut entering = true;
        'call: loop {
            if entering && self.frames.len() >= MAX_DEPTH {
                return error("pattern too complex");
            }
            entering = true;
            let outcome = 'body: loop {
                self.meter.charge(1)?;
                if p == pat.len() {
                    break 'body Some(s);
                }
                match pat[p] {
                    b'(' => {
                        if self.level >= MAX_CAPTURES {
                            return error("too many captures");
                        }
                        let (len, next) = if self.at(p + 1) == b')' {
                            (CAP_POSITION, p + 2)
                        } else {
                            (CAP_UNFINISHED, p + 1)
                        };
                        self.caps[self.level] = Capture { start: s, len };
                        self.level += 1;
                        self.frames.push(Frame::Open);
                        p = next;
                        continue 'call;
                    }
                    b')' => {
                        let index = self.capture_to_close()?;
                        self.caps[index].len = (s - self.caps[index].start) as isize;
                        self.frames.push(Frame::Close { index });
                        p += 1;
                        continue 'call;
                    }
                    b'$' if p + 1 == pat.len() => {
                        break 'body (s == src.len()).then_some(s);
                    }
                    b'%' if self.at(p + 1) == b'b' => {
                        let (open, close) = (self.at(p + 2), self.at(p + 3));
                        if open == 0 || close == 0 {
                            return error("unbalanced pattern");
                        }
                        match self.balance(s, open, close)? {
                            Some(end) => {
                                s = end;
                                p += 4;
                                continue 'body;
                            }
                            None => break 'body None,
                        }
                    }
                    b'%' if self.at(p + 1) == b'f' => {
                        p += 2;
                        if self.at(p) != b'[' {
                            return error("missing '[' after '%f' in pattern");
                        }
                        let end = self.class_end(p)?;
                        let before = if s == 0 { 0 } else { src[s - 1] };
                        let here = src.get(s).copied().unwrap_or(0);
                        if self.match_set(before, p, end - 1) || !self.match_set(here, p, end - 1) {
                            break 'body None;
                        }
                        p = end;
                        continue 'body;
                    }
                    b'%' if self.at(p + 1).is_ascii_digit() => {
                        let l = self.at(p + 1) as isize - b'1' as isize;
                        if l < 0
                            || l as usize >= self.level
                            || self.caps[l as usize].len == CAP_UNFINISHED
                        {
                            return error("invalid capture index");
                        }
                        let cap = self.caps[l as usize];
                        // A position capture never matches (its length
                        // reads as huge in C).
                        if cap.len < 0 {
                            break 'body None;
                        }
                        let len = cap.len as usize;
                        self.meter.charge(len / 16)?;
                        if src.len() - s >= len
                            && src[cap.start..cap.start + len] == src[s..s + len]
                        {
                            s += len;
                            p += 2;
                            continue 'body;
                        }
                        break 'body None;
                    }
                    _ => {}
                }
                // A single-char class, maybe with a quantifier.
                let end = self.class_end(p)?;
                let hit = s < src.len() && self.single(src[s], p, end);
                match self.at(end) {
                    b'?' => {
                        if hit {
                            self.frames.push(Frame::Optional {
                                at: s,
                                next: end + 1,
                            });
                            s += 1;
                            p = end + 1;
                            continue 'call;
                        }
                        p = end + 1;
                    }
                    b'*' => {
                        let count = self.count(s, p, end)?;
                        self.frames.push(Frame::Greedy {
                            base: s,
                            count,
                            next: end + 1,
                        });
                        s += count;
                        p = end + 1;
                        continue 'call;
                    }
                    b'+' => {
                        if !hit {
                            break 'body None;
                        }
                        let count = self.count(s + 1, p, end)?;
                        self.frames.push(Frame::Greedy {
                            base: s + 1,
                            count,
                            next: end + 1,
                        });
                        s += 1 + count;
                        p = end + 1;
                        continue 'call;
                    }
                    b'-' => {
                        self.frames.push(Frame::Lazy {
                            at: s,
                            item: p,
                            end,
                        });
                        p = end + 1;
                        continue 'call;
                    }
                    _ => {
                        if !hit {
                            break 'body None;
                        }
                        s += 1;
                        p = end;
                    }
                }
            };
            if outcome.is_some() {
                return Ok(outcome);
            }
            // The level that just failed returns to the one below.
            loop {
                let Some(&top) = self.frames.last() else {
                    return Ok(None);
                };
                let last = self.frames.len() - 1;
                match top {
                    Frame::Greedy { base, count, next } => {
                        if count > 0 {
                            self.frames[last] = Frame::Greedy {
                                base,
                                count: count - 1,
                                next,
                            };
                            s = base + count - 1;
                            p = next;
                            continue 'call;
                        }
                    }
                    Frame::Lazy { at, item, end } => {
                        self.meter.charge(1)?;
                        if at < src.len() && self.single(src[at], item, end) {
                            self.frames[last] = Frame::Lazy {
                                at: at + 1,
                                item,
                                end,
                            };
                            s = at + 1;
                            p = end + 1;
                            continue 'call;
                        }
                    }
                    Frame::Optional { at, next } => {
                        self.frames.pop();
                        s = at;
                        p = next;
                        entering = false;
                        continue 'call;
                    }
                    Frame::Open => self.level -= 1,
                    Frame::Close { index } => self.caps[index].len = CAP_UNFINISHED,
                }
                self.frames.pop();
            }
        }
    }

    /// How many times in a row the class at `p..end` matches from `s`.
    #[inline]
    fn count(&mut self, s: usize, p: usize, end: usize) -> Result<usize, Stop> {
        let rest = &self.src[s.min(self.src.len())..];
        let n = match self.pat[p] {
            b'.' => rest.len(),
            _ => rest
                .iter()
                .position(|&c| !self.single(c, p, end))
                .unwrap_or(rest.len()),
        };
        self.meter.charge(n / 4)?;
        Ok(n)
    }

    /// `%bxy` from `s`: the end of the balanced span.
    fn balance(&mut self, s: usize, open: u8, close: u8) -> Result<Option<usize>, Stop> {
        let src = self.src;
        if s >= src.len() || src[s] != open {
            return Ok(None);
        }
        let mut depth = 1usize;
        for (i, &c) in src.iter().enumerate().skip(s + 1) {
            // The close char is tested first: in %bxx the second x closes.
            if c == close {
                depth -= 1;
                if depth == 0 {
                    self.meter.charge((i - s) / 4)?;
                    return Ok(Some(i + 1));
                }
            } else if c == open {
                depth += 1;
            }
        }
        self.meter.charge((src.len() - s) / 4)?;
        Ok(None)
    }

    /// Capture `i` of the match `s..e` (the whole match when there are no
    /// captures and `i` is 0).
    fn capture(&self, i: usize, s: usize, e: usize) -> Result<Cap, Stop> {
        if i >= self.level {
            if i == 0 {
                return Ok(Cap::Str(s, e));
            }
            return error("invalid capture index");
        }
        let cap = self.caps[i];
        match cap.len {
            CAP_UNFINISHED => error("unfinished capture"),
            CAP_POSITION => Ok(Cap::Pos(cap.start)),
            len => Ok(Cap::Str(cap.start, cap.start + len as usize)),
        }
    }

    /// How many values a match gives: its captures, or the whole match
    /// (capture 0 in [`Matcher::capture`]) if there are none and `whole`.
    fn capture_count(&self, whole: bool) -> usize {
        if self.level == 0 && whole {
            1
        } else {
            self.level
        }
    }

    /// What the pattern from `p` needs at a start position, when its first
    /// item is a single-char class that must match once (no `*`, `?` or
    /// `-` after it): positions without it fail at once, without side
    /// effects or errors, and can be skipped. Captures opened before it
    /// change nothing there (fewer than 32 cannot fail). `None` for
    /// anything else, including a malformed first item (whose error the
    /// match raises).
    fn first_class(&self, p: usize) -> Option<First> {
        let mut p = p;
        let mut opened = 0;
        while self.at(p) == b'(' && opened < MAX_CAPTURES - 1 {
            p += if self.at(p + 1) == b')' { 2 } else { 1 };
            opened += 1;
        }
        let c = *self.pat.get(p)?;
        match c {
            b'(' | b')' | b'.' => return None,
            b'$' if p + 1 == self.pat.len() => return None,
            b'%' if matches!(self.at(p + 1), b'b' | b'f' | b'0'..=b'9') => return None,
            _ => {}
        }
        let end = self.class_end(p).ok()?;
        if matches!(self.at(end), b'*' | b'?' | b'-') {
            return None;
        }
        Some(if end == p + 1 && c != b'[' && c != b'%' {
            First::Byte(c)
        } else {
            First::Class(p, end)
        })
    }

    /// The first position from `s` where `first` matches, or the end.
    fn skip(&mut self, s: usize, first: First) -> Result<usize, Stop> {
        let rest = &self.src[s..];
        let n = match first {
            First::Byte(c) => memchr(c, rest).unwrap_or(rest.len()),
            First::Class(p, end) => rest
                .iter()
                .position(|&c| self.single(c, p, end))
                .unwrap_or(rest.len()),
        };
        self.meter.charge(n / 16)?;
        Ok(s + n)
    }

    /// The first match at or after `init` (only at `init` if `anchor`).
    fn search(
        &mut self,
        init: usize,
        p: usize,
        anchor: bool,
    ) -> Result<Option<(usize, usize)>, Stop> {
        let first = if anchor { None } else { self.first_class(p) };
        let mut s = init;
        loop {
            if let Some(first) = first {
                s = self.skip(s, first)?;
                if s == self.src.len() {
                    return Ok(None);
                }
            }
            if let Some(e) = self.run(s, p)? {
                return Ok(Some((s, e)));
            }
            if anchor || s >= self.src.len() {
                return Ok(None);
            }
            s += 1;
        }
    }
}

/// See [`Matcher::first_class`].
#[derive(Clone, Copy)]
enum First {
    /// A plain char.
    Byte(u8),
    /// A class at `p..end` of the pattern.
    Class(usize, usize),
}

/// The first `b` in `hay`.
fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    // 64 bytes a round, with a branch-free inner loop the compiler turns
    // into vector compares: as fast as the C library's memchr on long
    // strings (a plain `position` is ten times slower).
    let mut chunks = hay.chunks_exact(64);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut any = 0u8;
        for &c in chunk {
            any |= (c == b) as u8;
        }
        if any != 0 {
            return chunk.iter().position(|&c| c == b).map(|k| base + k);
        }
        base += 64;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b)
        .map(|k| base + k)
}

/// The first `needle` in `hay`, as LuaJIT's plain find.
fn find_plain(hay: &[u8], needle: &[u8], meter: &mut Meter) -> Result<Option<usize>, Stop> {
    let Some((&first, rest)) = needle.split_first() else {
        return Ok(Some(0));
    };
    if needle.len() > hay.len() {
        return Ok(None);
    }
    // Candidates start at 0..=last.
    let last = hay.len() - needle.len();
    let mut i = 0;
    while i <= last {
        let found = memchr(first, &hay[i..=last]);
        // Naive search is quadratic at worst ("aaa...b" in "aaaa..."):
        // each candidate is charged for its compare.
        meter.charge(found.unwrap_or(last + 1 - i) / 64 + 1 + rest.len() / 16)?;
        let Some(k) = found else {
            return Ok(None);
        };
        let q = i + k;
        if hay[q + 1..q + needle.len()] == *rest {
            return Ok(Some(q));
        }
        i = q + 1;
    }
    Ok(None)
}

/// Whether LuaJIT's `find` treats `p` as a pattern (else it searches for
/// it as plain text).
fn has_specials(p: &[u8]) -> bool {
    p.iter().any(|c| b"^$*+?.([%-".contains(c))
}

// ---------------------------------------------------------------------------
// The Lua functions

/// One argument as passed, telling "no value" from `nil` (Lua's argument
/// errors say "got no value").
enum Arg {
    None,
    Some(Value),
}

impl FromLua for Arg {
    fn from_lua(value: Value, _: &Lua) -> mlua::Result<Arg> {
        Ok(Arg::Some(value))
    }

    // mlua converts the arguments a call lacks through this method, with
    // `nil`; present ones through `from_lua`. Only `nil` is taken for a
    // missing one, so that a change in mlua could at worst turn "got nil"
    // into "got no value".
    fn from_lua_arg(arg: Value, _: usize, _: Option<&str>, _: &Lua) -> mlua::Result<Arg> {
        Ok(match arg {
            Value::Nil => Arg::None,
            v => Arg::Some(v),
        })
    }
}

impl Arg {
    fn value(&self) -> &Value {
        match self {
            Arg::None => &Value::Nil,
            Arg::Some(v) => v,
        }
    }

    /// Lua's name of the argument's type.
    fn type_name(&self) -> &'static str {
        match self {
            Arg::None => "no value",
            Arg::Some(v) => type_name(v),
        }
    }
}

/// Lua's name of a value's type.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        // LuaJIT's one type beyond Lua 5.1's.
        Value::Other(_) => "cdata",
        #[allow(unreachable_patterns)]
        other => other.type_name(),
    }
}

/// The generic entry points' arguments, as passed.
type Args4 = (Arg, Arg, Arg, Arg);

/// `find(s, p, init, plain)` as the glue passes it when the types are the
/// common ones. The pattern is copied (cheaper than a reference to a
/// short string); the subject is not, as it may be long.
type FastArgs = (LuaString, BString, Option<f64>, bool);

/// What a callback hands its Lua wrapper: up to two values and the rest
/// (see [`GLUE`]); the fixed part avoids an allocation per call.
type Reply = (Value, Value, Variadic<Value>);

fn nil_reply() -> Reply {
    (Value::Nil, Value::Nil, Variadic::new())
}

/// Turns a result into the wrapper's convention.
fn reply(lua: &Lua, result: Result<Reply, Stop>) -> mlua::Result<Reply> {
    match result {
        Ok(r) => Ok(r),
        Err(Stop::Error(message)) => {
            let text = format!("{}{message}", location(lua));
            Ok((
                Value::Boolean(false),
                Value::String(lua.create_string(text)?),
                Variadic::new(),
            ))
        }
        Err(Stop::Thrown(v)) => Ok((Value::Boolean(false), v, Variadic::new())),
        Err(Stop::Lua(e)) => Err(e),
    }
}

/// `file:line: ` of the script line that called, as `luaL_where(L, 1)`
/// for a C function. Level 0 is the Rust callback, 1 its Lua wrapper.
fn location(lua: &Lua) -> String {
    lua.inspect_stack(2, |d| {
        let line = d.current_line().unwrap_or(0);
        match d.source().short_src {
            Some(src) if line > 0 => format!("{src}:{line}: "),
            _ => String::new(),
        }
    })
    .unwrap_or_default()
}

/// "bad argument #n to 'name' (problem)", with the name the caller used,
/// as Lua's `luaL_argerror`.
fn bad_argument(lua: &Lua, n: usize, problem: &str) -> Stop {
    let (name, what) = lua
        .inspect_stack(1, |d| {
            let names = d.names();
            (names.name.map(|n| n.into_owned()), names.name_what)
        })
        .unwrap_or((None, None));
    let name = name.unwrap_or_else(|| "?".to_string());
    if what == Some("method") {
        if n == 1 {
            return Stop::Error(format!("calling '{name}' on bad self ({problem})"));
        }
        return Stop::Error(format!("bad argument #{} to '{name}' ({problem})", n - 1));
    }
    Stop::Error(format!("bad argument #{n} to '{name}' ({problem})"))
}

fn expected(lua: &Lua, n: usize, what: &str, arg: &Arg) -> Stop {
    bad_argument(lua, n, &format!("{what} expected, got {}", arg.type_name()))
}

/// A string argument; numbers are converted as Lua does.
fn check_string(lua: &Lua, n: usize, arg: Arg) -> Result<LuaString, Stop> {
    match arg {
        Arg::Some(Value::String(s)) => Ok(s),
        Arg::Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            match lua.coerce_string(v.clone())? {
                Some(s) => Ok(s),
                None => Err(expected(lua, n, "string", &Arg::Some(v))),
            }
        }
        other => Err(expected(lua, n, "string", &other)),
    }
}

/// A number argument (numeric strings too), `None` if absent or `nil`.
fn opt_number(lua: &Lua, n: usize, arg: &Arg) -> Result<Option<f64>, Stop> {
    match arg.value() {
        Value::Nil => Ok(None),
        Value::Integer(i) => Ok(Some(*i as f64)),
        Value::Number(x) => Ok(Some(*x)),
        v @ Value::String(_) => match lua.coerce_number(v.clone())? {
            Some(x) => Ok(Some(x)),
            None => Err(expected(lua, n, "number", arg)),
        },
        _ => Err(expected(lua, n, "number", arg)),
    }
}

/// C's `(int32_t)x` for a double on x86-64, LuaJIT's `lj_num2int`: out of
/// range (and NaN) gives `i32::MIN`, where Rust's `as` would saturate.
fn num2int(x: f64) -> i32 {
    if x > -2147483649.0 && x < 2147483648.0 {
        x as i32
    } else {
        i32::MIN
    }
}

/// C's `(int)(lua_Integer)x` on x86-64, as `luaL_optint` converts.
fn num2int_via_i64(x: f64) -> i32 {
    let wide = if x > -9223372036854775809.0 && x < 9223372036854775808.0 {
        x as i64
    } else {
        i64::MIN
    };
    wide as i32
}

fn cap_value(lua: &Lua, src: &[u8], cap: Cap) -> mlua::Result<Value> {
    match cap {
        Cap::Str(a, b) => lua.create_string(&src[a..b]).map(Value::String),
        Cap::Pos(at) => Ok(Value::Integer(at as i64 + 1)),
    }
}

/// `first` (0 to 2 values) then the `n` captures of the match `s..e` as
/// a reply.
fn values_reply(
    lua: &Lua,
    m: &Matcher,
    first: &[Value],
    n: usize,
    (s, e): (usize, usize),
) -> Result<Reply, Stop> {
    let (mut a, mut b, mut rest) = nil_reply();
    for i in 0..first.len() + n {
        let v = match first.get(i) {
            Some(v) => v.clone(),
            None => cap_value(lua, m.src, m.capture(i - first.len(), s, e)?)?,
        };
        match i {
            0 => a = v,
            1 => b = v,
            _ => rest.push(v),
        }
    }
    Ok((a, b, rest))
}

/// A matcher with the shared stack (or a fresh one when it is in use).
fn matcher<'a, 'c>(sh: &'c Shared, src: &'a [u8], pat: &'a [u8]) -> Matcher<'a, 'c> {
    Matcher::new(src, pat, sh.frames.take(), Meter::new(sh))
}

/// Gives the stack and the countdown back for the next call.
fn release(sh: &Shared, m: Matcher) {
    m.meter.finish(sh);
    let mut frames = m.frames;
    frames.clear();
    let kept = sh.frames.take();
    sh.frames.set(if kept.capacity() > frames.capacity() {
        kept
    } else {
        frames
    });
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Find,
    Match,
}

/// `string.find(s, pattern [, init [, plain]])` and
/// `string.match(s, pattern [, init])`, arguments checked.
fn find_or_match(
    lua: &Lua,
    sh: &Shared,
    src: &[u8],
    pat: &[u8],
    init: Option<f64>,
    plain: bool,
    mode: Mode,
) -> Result<Reply, Stop> {
    let init = init.map_or(1, num2int);
    let len = src.len();
    // Negative counts from the end; before the start is the start, past
    // the end is the end (Lua 5.1).
    let start = if init < 0 {
        init as i64 + len as i64
    } else {
        init as i64 - 1
    };
    let start = start.clamp(0, len as i64) as usize;
    if mode == Mode::Find && (plain || !has_specials(pat)) {
        let mut meter = Meter::new(sh);
        let found = find_plain(&src[start..], pat, &mut meter);
        meter.finish(sh);
        return Ok(match found? {
            Some(q) => {
                let at = start + q;
                (
                    Value::Integer(at as i64 + 1),
                    Value::Integer((at + pat.len()) as i64),
                    Variadic::new(),
                )
            }
            None => nil_reply(),
        });
    }
    let (anchor, p0) = match pat.first() {
        Some(b'^') => (true, 1),
        _ => (false, 0),
    };
    let mut m = matcher(sh, src, pat);
    let result = (|| match m.search(start, p0, anchor)? {
        Some((a, e)) => {
            let n = m.capture_count(mode == Mode::Match);
            if mode == Mode::Find {
                let pos = [Value::Integer(a as i64 + 1), Value::Integer(e as i64)];
                values_reply(lua, &m, &pos, n, (a, e))
            } else {
                values_reply(lua, &m, &[], n, (a, e))
            }
        }
        None => Ok(nil_reply()),
    })();
    release(sh, m);
    result
}

/// The next rounds of a gmatch iterator from byte `pos`: the position
/// after them, how many, the values per round, then the values (see
/// [`GLUE`]); nothing when there are no more. In Lua 5.1, `^` is no anchor
/// here, and an empty match moves on by one char.
///
/// Up to [`GMATCH_BATCH`] rounds are found at once: they depend on nothing
/// but the subject, the pattern and the position. An error after some
/// rounds waits for the next call, which meets it again.
fn gmatch_next(lua: &Lua, sh: &Shared, src: &[u8], pat: &[u8], pos: i64) -> Result<Reply, Stop> {
    let Ok(mut pos) = usize::try_from(pos) else {
        return Ok(nil_reply());
    };
    let mut m = matcher(sh, src, pat);
    // The width goes first; set once known. A single string capture is
    // sent as its span (width 0); a pattern's captures are the same kind
    // in every round, but a batch ends where they would not be.
    let mut values = Variadic::with_capacity(2 * GMATCH_BATCH + 1);
    values.push(Value::Integer(1));
    let mut spans = None;
    let mut count = 0;
    let result = (|| {
        while count < GMATCH_BATCH && pos <= src.len() {
            let Some((a, e)) = m.search(pos, 0, false)? else {
                pos = src.len() + 1;
                break;
            };
            let n = m.capture_count(true);
            let span = match (n, m.capture(0, a, e)?) {
                (1, Cap::Str(a, b)) => Some((a, b)),
                _ => None,
            };
            if *spans.get_or_insert(span.is_some()) != span.is_some() {
                break;
            }
            match span {
                Some((a, b)) => {
                    values[0] = Value::Integer(0);
                    values.push(Value::Integer(a as i64 + 1));
                    values.push(Value::Integer(b as i64));
                }
                None => {
                    values[0] = Value::Integer(n as i64);
                    for i in 0..n {
                        values.push(cap_value(lua, src, m.capture(i, a, e)?)?);
                    }
                }
            }
            count += 1;
            pos = if e == a { e + 1 } else { e };
        }
        Ok(())
    })();
    release(sh, m);
    match result {
        Err(e) if count == 0 => Err(e),
        _ if count == 0 => Ok(nil_reply()),
        _ => Ok((
            Value::Integer(pos as i64),
            Value::Integer(count as i64),
            values,
        )),
    }
}

/// gsub's replacement.
enum Repl<'v> {
    Text(mlua::BorrowedBytes),
    Table { table: &'v Table, raw: bool },
    Call(&'v Function),
}

/// gsub's result, handed to Lua in pieces (see [`FLUSH_BYTES`]).
struct Output<'l> {
    lua: &'l Lua,
    buf: Vec<u8>,
    parts: Vec<LuaString>,
}

impl Output<'_> {
    fn push(&mut self, bytes: &[u8], meter: &mut Meter) -> Result<(), Stop> {
        meter.charge(bytes.len() / 64)?;
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= FLUSH_BYTES {
            self.parts.push(self.lua.create_string(&self.buf)?);
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(self) -> mlua::Result<LuaString> {
        if self.parts.is_empty() {
            return self.lua.create_string(&self.buf);
        }
        let mut all = Vec::new();
        for part in &self.parts {
            all.extend_from_slice(&part.as_bytes());
        }
        all.extend_from_slice(&self.buf);
        self.lua.create_string(&all)
    }
}

/// `string.gsub(s, pattern, repl [, n])`, arguments 1, 2 and 4 checked.
fn str_gsub(
    lua: &Lua,
    sh: &Shared,
    src: &[u8],
    pat: &[u8],
    repl: &Value,
    max: Option<f64>,
) -> Result<Reply, Stop> {
    let max = match max {
        Some(x) => num2int_via_i64(x) as i64,
        None => (src.len() as i32).wrapping_add(1) as i64,
    };
    let text;
    let repl = match repl {
        Value::String(r) => Repl::Text(r.as_bytes()),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v.clone())? {
            Some(r) => {
                text = r;
                Repl::Text(text.as_bytes())
            }
            None => return Err(bad_argument(lua, 3, "string/function/table expected")),
        },
        Value::Table(table) => Repl::Table {
            table,
            raw: table.metatable().is_none(),
        },
        Value::Function(f) => Repl::Call(f),
        _ => return Err(bad_argument(lua, 3, "string/function/table expected")),
    };
    let (anchor, p0) = match pat.first() {
        Some(b'^') => (true, 1),
        _ => (false, 0),
    };
    let mut m = matcher(sh, src, pat);
    let result = gsub_loop(lua, sh, &mut m, &repl, max, anchor, p0);
    release(sh, m);
    let (out, n) = result?;
    Ok((Value::String(out), Value::Integer(n), Variadic::new()))
}

fn gsub_loop(
    lua: &Lua,
    sh: &Shared,
    m: &mut Matcher,
    repl: &Repl,
    max: i64,
    anchor: bool,
    p0: usize,
) -> Result<(LuaString, i64), Stop> {
    let src = m.src;
    let mut out = Output {
        lua,
        buf: Vec::with_capacity(src.len()),
        parts: Vec::new(),
    };
    let first = if anchor { None } else { m.first_class(p0) };
    let mut s = 0;
    let mut n = 0i64;
    while n < max {
        if let Some(first) = first {
            // Positions where the match fails at once are copied as they
            // are, as the char-by-char loop below would.
            let next = m.skip(s, first)?;
            out.push(&src[s..next], &mut m.meter)?;
            s = next;
        }
        let e = m.run(s, p0)?;
        if let Some(e) = e {
            n += 1;
            match repl {
                Repl::Text(r) => add_text(m, &mut out, r, s, e)?,
                _ => add_value(lua, sh, m, &mut out, repl, s, e)?,
            }
        }
        match e {
            Some(e) if e > s => s = e,
            _ if s < src.len() => {
                out.push(&src[s..s + 1], &mut m.meter)?;
                s += 1;
            }
            _ => break,
        }
        if anchor {
            break;
        }
    }
    out.push(&src[s..], &mut m.meter)?;
    Ok((out.finish()?, n))
}

/// A replacement string: `%0`-`%9` are captures, `%` before anything else
/// stands for that char (and a final `%` for NUL, as in LuaJIT).
fn add_text(m: &mut Matcher, out: &mut Output, r: &[u8], s: usize, e: usize) -> Result<(), Stop> {
    let src = m.src;
    let mut i = 0;
    while i < r.len() {
        let Some(k) = r[i..].iter().position(|&c| c == b'%') else {
            return out.push(&r[i..], &mut m.meter);
        };
        out.push(&r[i..i + k], &mut m.meter)?;
        i += k + 1;
        let c = r.get(i).copied().unwrap_or(0);
        i += 1;
        if !c.is_ascii_digit() {
            out.push(&[c], &mut m.meter)?;
        } else if c == b'0' {
            out.push(&src[s..e], &mut m.meter)?;
        } else {
            match m.capture((c - b'1') as usize, s, e)? {
                Cap::Str(a, b) => out.push(&src[a..b], &mut m.meter)?,
                Cap::Pos(at) => out.push((at + 1).to_string().as_bytes(), &mut m.meter)?,
            }
        }
    }
    Ok(())
}

/// A replacement from a table (keyed by the first capture) or a function
/// (called with the captures); `false` or `nil` keeps the match.
fn add_value(
    lua: &Lua,
    sh: &Shared,
    m: &mut Matcher,
    out: &mut Output,
    repl: &Repl,
    s: usize,
    e: usize,
) -> Result<(), Stop> {
    let src = m.src;
    let value = match repl {
        Repl::Text(_) => unreachable!("text replacements go through add_text"),
        Repl::Table { table, raw } => {
            let key = cap_value(lua, src, m.capture(0, s, e)?)?;
            if *raw {
                table.raw_get::<Value>(key)?
            } else {
                protected(sh.index.call::<(bool, Value)>((*table, key))?)?
            }
        }
        Repl::Call(f) => {
            let n = m.capture_count(true);
            let mut args = Variadic::with_capacity(n + 1);
            args.push(Value::Function((*f).clone()));
            for i in 0..n {
                args.push(cap_value(lua, src, m.capture(i, s, e)?)?);
            }
            protected(sh.call.call::<(bool, Value)>(args)?)?
        }
    };
    match value {
        Value::Nil | Value::Boolean(false) => out.push(&src[s..e], &mut m.meter),
        Value::String(r) => out.push(&r.as_bytes(), &mut m.meter),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v)? {
            Some(r) => out.push(&r.as_bytes(), &mut m.meter),
            None => error("invalid replacement value (a number)"),
        },
        other => Err(Stop::Error(format!(
            "invalid replacement value (a {})",
            type_name(&other)
        ))),
    }
}

/// The result of a `pcall`: the value, or what was raised, to be raised
/// again. LuaJIT's pcall turns running out of memory into this string;
/// it goes on as mlua's memory error so that the host still knows it.
fn protected((ok, value): (bool, Value)) -> Result<Value, Stop> {
    if ok {
        return Ok(value);
    }
    if let Value::String(s) = &value
        && &*s.as_bytes() == b"not enough memory"
    {
        return Err(Stop::Lua(mlua::Error::MemoryError(
            "not enough memory".into(),
        )));
    }
    Err(Stop::Thrown(value))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    use super::*;

    /// Lua helpers shared by both states: `describe` renders a call's
    /// results (or error) as one comparable string.
    const HELPERS: &str = r##"
local format, concat, type, tostring, select = string.format, table.concat, type, tostring, select
local function show(v)
  if type(v) == "string" then return format("%q", v) end
  -- Addresses differ between the two states.
  if type(v) == "table" or type(v) == "function" then return type(v) end
  return type(v) .. ":" .. tostring(v)
end
function pack(...) return { n = select("#", ...), ... } end
function describe(ok, r)
  if not ok then return "error: " .. show(r) end
  local parts = {}
  for i = 1, r.n do parts[i] = show(r[i]) end
  return "n=" .. r.n .. " " .. concat(parts, ", ")
end
-- Every result of a gmatch loop (at most 100 rounds).
function collect(it)
  local out, rounds = {}, 0
  while rounds < 100 do
    local r = pack(it())
    if r[1] == nil then break end
    rounds = rounds + 1
    local parts = {}
    for i = 1, r.n do parts[i] = show(r[i]) end
    out[#out + 1] = "(" .. concat(parts, ",") .. ")"
  end
  return concat(out, " ")
end
function upper(...) return concat(pack(...), "|"):upper() end
"##;

    fn plain_state() -> Lua {
        let lua = Lua::new();
        lua.load(HELPERS).set_name("=helpers").exec().unwrap();
        lua
    }

    fn patched_state(check: Check) -> Lua {
        let lua = Lua::new();
        install(&lua, check).unwrap();
        lua.load(HELPERS).set_name("=helpers").exec().unwrap();
        lua
    }

    fn no_check() -> Check {
        Rc::new(|| Ok(()))
    }

    /// Evaluates `expr` in a script line (so that errors carry
    /// `case:1:` and the name the call used) and describes the outcome.
    fn eval(lua: &Lua, expr: &str) -> String {
        let code =
            format!("return describe(pcall(function() local r = pack({expr}) return r end))");
        match lua.load(&code).set_name("=case").eval::<String>() {
            Ok(s) => s,
            Err(e) => format!("host error: {e}"),
        }
    }

    /// Asserts that every expression gives the same results (values,
    /// types, count, error message) with LuaJIT's functions and ours.
    fn assert_same(cases: &[&str]) {
        let (orig, ours) = (plain_state(), patched_state(no_check()));
        let mut failures = Vec::new();
        for case in cases {
            let (want, got) = (eval(&orig, case), eval(&ours, case));
            if want != got {
                failures.push(format!("{case}\n  LuaJIT: {want}\n  ours:   {got}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} differences:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn find_and_match_agree_with_luajit() {
        assert_same(&[
            // Plain and pattern finds, init in every range.
            r#"string.find("hello world", "o")"#,
            r#"string.find("hello world", "o", 6)"#,
            r#"string.find("hello world", "o", -3)"#,
            r#"string.find("hello world", "o", -100)"#,
            r#"string.find("hello world", "o", 100)"#,
            r#"string.find("hello world", "", 100)"#,
            r#"string.find("hello world", "", 12)"#,
            r#"string.find("hello world", "", 11)"#,
            r#"string.find("hello world", "", 0)"#,
            r#"string.find("hello", "l", 1.9)"#,
            r#"string.find("hello", "l", "3")"#,
            r#"string.find("hello", "l", " 0x3 ")"#,
            r#"string.find("hello", "l", 3e9)"#,
            r#"string.find("hello", "l", -3e9)"#,
            r#"string.find("hello", "l", 1e10)"#,
            r#"string.find("hello", "l", 0/0)"#,
            r#"string.find("hello", "l", "x")"#,
            r#"string.find("hello", "l", {})"#,
            r#"string.find("a.b", ".", 1, true)"#,
            r#"string.find("a.b", "%.", 1)"#,
            r#"string.find("a.b", ".", 2, 1)"#,
            r#"string.find("a+b", "+", 1, false)"#,
            r#"string.find("a+b", "a+b")"#,
            r#"string.find("a]b", "]")"#,
            r#"string.find("abc", "abcd")"#,
            r#"string.find("", "")"#,
            r#"string.find("", "x")"#,
            r#"string.find("a\0b\0c", "\0c")"#,
            r#"string.find("a\0b\0c", "b\0")"#,
            r#"string.find("a\0b\0c", "%z")"#,
            r#"string.find("a\0b\0c", "[%z]", 3)"#,
            r#"string.find("a\0b\0c", "%Z+")"#,
            r#"string.find("a\0b\0c", "b\0.")"#,
            r#"string.find("ab", "a\0.")"#,
            r#"string.match("ab", "a\0c")"#,
            r#"string.find(12345, 34)"#,
            r#"string.find(1.5, "%.")"#,
            r#"string.find(1e100, "e")"#,
            r#"string.match(2^53, "%d+")"#,
            r#"string.match(-0.0, ".*")"#,
            r#"string.find(nil, "x")"#,
            r#"string.find("x")"#,
            r#"string.find()"#,
            r#"string.find({}, "x")"#,
            r#"string.find("x", true)"#,
            r#"string.match("x", print)"#,
            r#"string.match(nil)"#,
            r#"("x"):find(nil)"#,
            r#"("x"):match({})"#,
            r#"("hello"):find("l+")"#,
            // Classes.
            r#"string.match("  hello123 WORLD_x!", "%a+")"#,
            r#"string.match("  hello123 WORLD_x!", "%d+")"#,
            r#"string.match("  hello123 WORLD_x!", "%l+%d+")"#,
            r#"string.match("  hello123 WORLD_x!", "%u+")"#,
            r#"string.match("  hello123 WORLD_x!", "%p")"#,
            r#"string.match("  hello123 WORLD_x!", "%w+", 9)"#,
            r#"string.match("  hello123 WORLD_x!", "%S+")"#,
            r#"string.match("\t\v\f\r\n x", "%s*()")"#,
            r#"string.match("\1\2\127abc", "%c+")"#,
            r#"string.match("0x1fAg", "%x+", 3)"#,
            r#"string.match("abc", "%A")"#,
            r#"string.match("ab1", "%D+")"#,
            r#"string.match("abAB", "%L+")"#,
            r#"string.match("abAB", "%U+")"#,
            r#"string.match("a.b,c", "%P+")"#,
            r#"string.match("a b", "%W")"#,
            r#"string.match("12g", "%X")"#,
            r#"string.match("\200\255abc", "%C+")"#,
            r#"string.match("\200\255abc", "[\200-\255]+")"#,
            r#"string.match("Q%Qq", "%Q")"#,
            r#"string.match("a%b", "%%")"#,
            r#"string.match("a.b", "%.")"#,
            r#"string.match("eb", "%e")"#,
            // Sets.
            r#"string.match("hello-world", "[a-z]+")"#,
            r#"string.match("hello-world", "[^a-z]+")"#,
            r#"string.match("a-b", "[-]")"#,
            r#"string.match("a-b", "[a-]+")"#,
            r#"string.match("a-b", "[%a-]+")"#,
            r#"string.match("x]y", "[]]")"#,
            r#"string.match("x]y", "[^]]+")"#,
            r#"string.match("x^y", "[x^]+")"#,
            r#"string.match("x^y", "[%^]")"#,
            r#"string.match("a1_B", "[%w_]+")"#,
            r#"string.match("z-a", "[z-a]")"#,
            r#"string.match("b", "[a-]")"#,
            r#"string.match("-", "[a-]")"#,
            r#"string.match("%", "[%%]")"#,
            r#"string.match("]", "[%]]")"#,
            r#"string.match("a", "[a")"#,
            r#"string.match("a", "[a%")"#,
            r#"string.match("a", "[^")"#,
            r#"string.match("a", "[")"#,
            r#"string.match("a", "[]")"#,
            r#"string.match("", "[a")"#,
            r#"string.match("b", "a[")"#,
            r#"string.match("a", "%")"#,
            r#"string.match("b", "a%")"#,
            // Quantifiers.
            r#"string.match("aaab", "a*")"#,
            r#"string.match("aaab", "a-b")"#,
            r#"string.match("aaab", "a+b")"#,
            r#"string.match("aaab", "a?a?b")"#,
            r#"string.match("b", "a+")"#,
            r#"string.match("<<a>><<b>>", "<<(.-)>>")"#,
            r#"string.match("<<a>><<b>>", "<<(.*)>>")"#,
            r#"string.match("key = value", "(%w+)%s*=%s*(%w+)")"#,
            r#"string.match("  trim  me  ", "^%s*(.-)%s*$")"#,
            r#"string.match("x", "x**")"#,
            r#"string.match("x*", "x**")"#,
            r#"string.match("a", "*")"#,
            r#"string.match("+a", "+")"#,
            r#"string.match("-a", "-")"#,
            r#"string.match("?", "?")"#,
            r#"string.match("abc", ".-")"#,
            r#"string.match("abc", ".-$")"#,
            r#"string.match("abc", "()")"#,
            // Anchors.
            r#"string.find("abc", "^b")"#,
            r#"string.find("abc", "^b", 2)"#,
            r#"string.find("abc", "^a", 2)"#,
            r#"string.find("a^b", "a^b")"#,
            r#"string.find("abc", "c$")"#,
            r#"string.find("abc$", "c$")"#,
            r#"string.find("a$c", "$c")"#,
            r#"string.find("abc", "$")"#,
            r#"string.find("abc", "^$")"#,
            r#"string.find("", "^$")"#,
            r#"string.find("abc", "^")"#,
            r#"string.find("^abc", "^^a")"#,
            r#"string.match("abc", "b$$")"#,
            // Captures.
            r#"string.find("hello world", "(o)(r)")"#,
            r#"string.find("hello world", "()o()")"#,
            r#"string.match("hello world", "()")"#,
            r#"string.match("hello", "(h)(e)(l)(l)(o)")"#,
            r#"string.match("a1b22", "(%d+)")"#,
            r#"string.match("a1b22", "(()(%d)(%d))")"#,
            r#"string.match("a)b", "()b")"#,
            r#"string.match("ab", "(.)b")"#,
            r#"string.match("ab", "((b")"#,
            r#"string.match("ab", "((x")"#,
            r#"string.find("xab", "(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))")"#,
            r#"string.find("xab", "(((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))")"#,
            r#"string.find("xab", "(((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))")"#,
            r#"string.find("xab", "(((((((((((((((((((((((((((((((((z)))))))))))))))))))))))))))))))))")"#,
            r#"string.gsub("a1b22", "(%d)", "<%1>")"#,
            r#"string.gsub("a1b22", "(()%d)", "<%1%2>")"#,
            r#"string.match("hello", "((h)(e))")"#,
            r#"string.match("hello", "(h(e(l)))")"#,
            r#"string.match("hello", "(x*)")"#,
            r#"string.match("hello", "(l+)()")"#,
            r#"string.match("hello", "(h")"#,
            r#"string.find("hello", "(h")"#,
            r#"string.match("hello", "h)")"#,
            r#"string.match("hello", "x)")"#,
            r#"string.match("hello", "(()")"#,
            r#"string.match("hello", "(h)%1")"#,
            r#"string.match("hello", "(l)%1")"#,
            r#"string.match("hello", "(l)%2")"#,
            r#"string.match("hello", "(l%1)")"#,
            r#"string.match("hello", "%1")"#,
            r#"string.match("hello", "(l)%0")"#,
            r#"string.match("hello", "()l%1")"#,
            r#"string.match("say 'hi' or \"bye\"", "([\"'])(.-)%1")"#,
            r#"string.match(string.rep("a", 40), string.rep("(a)", 32))"#,
            r#"string.match(string.rep("a", 40), string.rep("(a)", 33))"#,
            r#"string.match(string.rep("a", 40), string.rep("()", 33))"#,
            // %b and %f.
            r#"string.match("f(a(b)c) d", "%b()")"#,
            r#"string.find("f(a(b)c) d", "%b()")"#,
            r#"string.match("f(a(b c) d", "%b()")"#,
            r#"string.match("x 'abc' y", "%b''")"#,
            r#"string.match("x", "%b")"#,
            r#"string.match("x", "%bx")"#,
            r#"string.match("", "%bxy")"#,
            r#"string.match("THE (quick) fox", "%f[%a]%a+")"#,
            r#"string.match("THE (quick) fox", "%f[%l]%a+")"#,
            r#"string.find("THE (quick) fox", "%f[%a]%a+%f[%A]", 5)"#,
            r#"string.find("THE (quick) fox", "%f[%z]")"#,
            r#"string.find("abc", "%f[^%z]")"#,
            r#"string.find("abc", "%fa")"#,
            r#"string.find("abc", "%f")"#,
            r#"string.find("abc", "%f[a")"#,
            r#"string.find("abc", "[%f]")"#,
        ]);
    }

    #[test]
    fn gmatch_and_gsub_agree_with_luajit() {
        assert_same(&[
            r#"collect(string.gmatch("hello world from Lua", "%a+"))"#,
            r#"collect(string.gmatch(string.rep("ab ", 70), "%a+"))"#,
            r#"collect(string.gmatch(string.rep("ab ", 70), "(%a)(%a)()"))"#,
            r#"collect(string.gmatch(string.rep("ab ", 40) .. "(", "%a+()%s*%b()"))"#,
            r#"collect(string.gmatch(string.rep("ab ", 40) .. "(", "(%a+)(%s*)(%)?)"))"#,
            r#"collect(string.gmatch(string.rep("x", 40) .. "(", "x%1"))"#,
            r#"collect(string.gmatch(string.rep("x", 40) .. "(", "(x)%1"))"#,
            r#"collect(string.gmatch(string.rep("xx", 40) .. "y", "([xy])%1"))"#,
            r#"collect(string.gmatch(string.rep("x", 40) .. "y", "x()()y?()[%w"))"#,
            r#"collect(string.gmatch(string.rep("x", 40) .. "yz", "[xy]*"))"#,
            r#"collect(string.gmatch(string.rep("x", 70), "x-"))"#,
            r#"collect(string.gmatch("k1=v1, k2=v2", "(%w+)=(%w+)"))"#,
            r#"collect(string.gmatch("abc", ""))"#,
            r#"collect(string.gmatch("abc", "x*"))"#,
            r#"collect(string.gmatch("baaac", "a*"))"#,
            r#"collect(string.gmatch("abc", "()"))"#,
            r#"collect(string.gmatch("a^b^", "^."))"#,
            r#"collect(string.gmatch("abc", "^a"))"#,
            r#"collect(string.gmatch("", ".*"))"#,
            r#"collect(string.gmatch("one two", "(%a+)()"))"#,
            r#"collect(string.gmatch(12.5, "%d"))"#,
            r#"collect(string.gmatch("abc", "[a"))"#,
            r#"collect(string.gmatch("abc", "%"))"#,
            r#"collect(string.gmatch("abc", "(a"))"#,
            r#"string.gmatch(nil, "x")"#,
            r#"string.gmatch("x")"#,
            r#"("a,b,,c"):gmatch("([^,]*)")"#,
            r#"collect(("a,b,,c"):gmatch("([^,]*)"))"#,
            // gsub, string replacements.
            r#"string.gsub("hello world", "o", "0")"#,
            r#"string.gsub("hello world", "o", "0", 1)"#,
            r#"string.gsub("hello world", "o", "0", 0)"#,
            r#"string.gsub("hello world", "o", "0", -1)"#,
            r#"string.gsub("hello world", "o", "0", 1.7)"#,
            r#"string.gsub("hello world", "o", "0", "1")"#,
            r#"string.gsub("hello world", "o", "0", 1e10)"#,
            r#"string.gsub("hello world", "o", "0", 3e9)"#,
            r#"string.gsub("hello world", "o", "0", "x")"#,
            r#"string.gsub("hello world", "(o)", "[%1]")"#,
            r#"string.gsub("hello world", "o", "[%1]")"#,
            r#"string.gsub("hello world", "o", "[%2]")"#,
            r#"string.gsub("hello world", "(o)", "[%2]")"#,
            r#"string.gsub("hello world", "(%w+) (%w+)", "%2 %1")"#,
            r#"string.gsub("hello world", "%w+", "<%0>")"#,
            r#"string.gsub("hello world", "()o", "%1")"#,
            r#"string.gsub("hello", "", "-")"#,
            r#"string.gsub("hello", "x*", "-")"#,
            r#"string.gsub("hello", "l*", "-")"#,
            r#"string.gsub("hello", "^h", "H")"#,
            r#"string.gsub("hello", "^", "> ")"#,
            r#"string.gsub("hello", "$", " <")"#,
            r#"string.gsub("hello", "^l", "L")"#,
            r#"string.gsub("hello", "^(.)", "%1%1", 5)"#,
            r#"string.gsub("a.b", "%.", "%%")"#,
            r#"string.gsub("a.b", "%.", "%x")"#,
            r#"string.gsub("a.b", "%.", "%")"#,
            r#"string.gsub("a.b", "%.", "100%")"#,
            r#"string.gsub("a.b", "%.", "%a%")"#,
            r#"string.gsub("a.b", "%.", 7)"#,
            r#"string.gsub("a.b", "%.", 0.5)"#,
            r#"string.gsub(123, 2, 9)"#,
            r#"string.gsub("abc", "(b", "x")"#,
            r#"string.gsub("abc", "[", "x")"#,
            r#"string.gsub("", "[", "x")"#,
            r#"string.gsub("abc", "b", nil)"#,
            r#"string.gsub("abc", "b")"#,
            r#"string.gsub("abc", "b", true)"#,
            r#"string.gsub("abc")"#,
            r#"string.gsub(nil, "b", "c")"#,
            r#"("abc"):gsub("b", false)"#,
            // Tables.
            r#"string.gsub("$name is $age", "%$(%w+)", { name = "Ann", age = 7 })"#,
            r#"string.gsub("$name is $x", "%$(%w+)", { name = "Ann", x = false })"#,
            r#"string.gsub("$name", "%$%w+", { ["$name"] = "whole" })"#,
            r#"string.gsub("abc", "()b", { [2] = "two" })"#,
            r#"string.gsub("abc", "b", { b = {} })"#,
            r#"string.gsub("abc", "b", { b = true })"#,
            r#"string.gsub("abc", "(b", {})"#,
            r#"string.gsub("abc", "%w", setmetatable({}, { __index = function(_, k) return k:upper() end }))"#,
            r#"string.gsub("abc", "%w", setmetatable({}, { __index = function(_, k) error("no " .. k) end }))"#,
            // Functions.
            r#"string.gsub("hello world", "%w+", string.upper)"#,
            r#"string.gsub("hello world", "(%w)(%w*)", upper)"#,
            r#"string.gsub("hello world", "%w+", function() end)"#,
            r#"string.gsub("hello world", "%w+", function() return false end)"#,
            r#"string.gsub("hello world", "%w+", function() return 1.5 end)"#,
            r#"string.gsub("hello world", "%w+", function() return {} end)"#,
            r#"string.gsub("hello world", "%w+", function() return print end)"#,
            r#"string.gsub("hello world", "()%w+()", function(a, b) return a .. "-" .. b end)"#,
            r#"string.gsub("hello world", "%w+", function(w) error("bad " .. w) end)"#,
            r#"string.gsub("hello world", "%w+", function(w) error({ w }) end)"#,
            r#"string.gsub("hello world", "%w+", function(w) error() end)"#,
            r#"string.gsub("hello world", "%w+", function(w) return (w:gsub("o", "0")) end)"#,
            r#"string.gsub("hello world", "%w+", function(w) return string.find(w, "l+") end)"#,
            r#"select(2, pcall(string.gsub, "x", "x", function() error("deep", 2) end))"#,
            r#"(function() return string.find("x", "[") end)()"#,
            r#"(function() return ("x"):gsub("x", "%2") end)()"#,
            r#"(function() return string.gmatch() end)()"#,
            r#"(function() local f = string.find return f() end)()"#,
            r#"(function() local f = string.find local r = f() return r end)()"#,
            r#"(function() local t = { f = string.find } local r = t:f() return r end)()"#,
            r#"(function() local t = { f = string.gsub } local r = t:f("x", 1) return r end)()"#,
            r#"(function() local t = { f = string.gsub } local r = t.f("x", 1) return r end)()"#,
        ]);
    }

    #[test]
    fn nesting_limit_agrees_with_luajit() {
        // Subjects are kept short where the pattern backtracks: LuaJIT's
        // own matcher has no budget.
        let mut cases = Vec::new();
        for n in [150, 198, 199, 200, 201, 250] {
            cases.push(format!(
                r#"string.find(string.rep("a", 300), string.rep("a?", {n}))"#
            ));
            cases.push(format!(
                r#"string.find(string.rep("a", {n}), string.rep("a?", {n}) .. "$")"#
            ));
            cases.push(format!(
                r#"string.find(string.rep("a", 300), string.rep("a*", {n}))"#
            ));
            cases.push(format!(
                r#"string.find("aaa", string.rep("a-", {n}) .. "$")"#
            ));
            cases.push(format!(
                r#"string.find("aaa", string.rep("a?", {n}) .. "b")"#
            ));
            cases.push(format!(
                r#"string.match(string.rep("a", 300), string.rep("(a)", 20) .. string.rep("a?", {n}))"#
            ));
        }
        let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
        assert_same(&cases);
    }

    /// A small deterministic generator for the random comparison.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    #[test]
    fn random_patterns_agree_with_luajit() {
        let (orig, ours) = (plain_state(), patched_state(no_check()));
        let probe = r#"
            local s, p, init = ...
            local function try(f, ...) return describe(pcall(function(...) return pack(f(...)) end, ...)) end
            return table.concat({
              try(string.find, s, p, init),
              try(string.match, s, p, init),
              try(function() return collect(string.gmatch(s, p)) end),
              try(string.gsub, s, p, "<%0>"),
              try(string.gsub, s, p, "%1", 2),
              try(string.gsub, s, p, function(...) return concat({...}, ",") end),
            }, "\n")
        "#;
        let probe_orig: Function = orig.load(probe).set_name("=probe").into_function().unwrap();
        let probe_ours: Function = ours.load(probe).set_name("=probe").into_function().unwrap();
        orig.load("concat = table.concat").exec().unwrap();
        ours.load("concat = table.concat").exec().unwrap();
        let atoms = [
            "a", "b", "a", "b", ".", "%a", "%d", "%s", "%w", "%A", "%z", "%%", "%", "[ab]", "[^a]",
            "[a-c]", "[%d_]", "[]]", "[^]", "[a", "(", ")", "()", "(a)", "%1", "%2", "%0", "%bab",
            "%b()", "%f[a]", "%f[%s]", "%f", "^", "$", "*", "+", "-", "?", "(", ")", "\0", "]",
        ];
        let quantifiers = ["", "", "", "*", "+", "-", "?"];
        let chars = ["a", "b", "a", "b", " ", "1", "(", ")", "\0", "_", "\u{e9}"];
        let mut rng = Rng(0x2545F4914F6CDD1D);
        let mut failures = Vec::new();
        for _ in 0..4000 {
            let mut p = String::new();
            for _ in 0..rng.below(7) {
                p.push_str(rng.pick(&atoms));
                p.push_str(rng.pick(&quantifiers));
            }
            let mut s = String::new();
            for _ in 0..rng.below(10) {
                s.push_str(rng.pick(&chars));
            }
            let init = [
                None,
                Some(1),
                Some(2),
                Some(-1),
                Some(-3),
                Some(0),
                Some(20),
            ][rng.below(7)];
            let want: LuaString = probe_orig.call((s.as_str(), p.as_str(), init)).unwrap();
            let got: LuaString = probe_ours.call((s.as_str(), p.as_str(), init)).unwrap();
            let (want, got) = (want.to_string_lossy(), got.to_string_lossy());
            if want != got {
                failures.push(format!(
                    "s={s:?} p={p:?} init={init:?}\n  LuaJIT: {want}\n  ours:   {got}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} differences, first ones:\n{}",
            failures.len(),
            failures[..failures.len().min(8)].join("\n")
        );
    }

    #[test]
    fn method_calls_and_errors_are_strings() {
        let lua = patched_state(no_check());
        let (ok, err, kind): (bool, Value, String) = lua
            .load(
                r#"local ok, e = pcall(function() local r = ("x"):find("[") return r end)
                   return ok, e, type(e)"#,
            )
            .set_name("=script")
            .eval()
            .unwrap();
        assert!(!ok);
        assert_eq!(kind, "string");
        assert_eq!(
            err.to_string().unwrap(),
            "script:1: malformed pattern (missing ']')"
        );
        let n: i64 = lua
            .load(r#"local n = 0 for w in ("a b c"):gmatch("%a") do n = n + 1 end return n"#)
            .eval()
            .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn check_callback_stops_a_catastrophic_pattern() {
        let calls = Rc::new(Cell::new(0u32));
        let counter = Rc::clone(&calls);
        let lua = patched_state(Rc::new(move || {
            counter.set(counter.get() + 1);
            if counter.get() > 50 {
                Err("script over budget".to_string())
            } else {
                Ok(())
            }
        }));
        let started = Instant::now();
        let (ok, err): (bool, String) = lua
            .load(
                r#"return pcall(function()
                     local i = string.find(string.rep("a", 30), "a-a-a-a-a-a-a-a-a-b")
                     return i
                   end)"#,
            )
            .set_name("=script")
            .eval()
            .unwrap();
        assert!(!ok);
        assert_eq!(err, "script:2: script over budget");
        assert_eq!(calls.get(), 51);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );

        // The same through a method call, a gmatch loop and gsub.
        for code in [
            r#"local r = ("a"):rep(1e5):find(".-.-.-.-x") return r"#,
            r#"for _ in ("a"):rep(1e4):gmatch(".-.-.-x") do end"#,
            r#"local r = ("a"):rep(1e4):gsub(".-.-.-x", "") return r"#,
            r#"local r = ("a"):rep(1e4):match("(.-)%1%1x") return r"#,
        ] {
            calls.set(0);
            let started = Instant::now();
            let err = lua.load(code).set_name("=script").exec().unwrap_err();
            assert!(
                err.to_string().contains("script:1: script over budget"),
                "{code}: {err}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{code}: {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn many_small_calls_reach_the_check() {
        let calls = Rc::new(Cell::new(0u32));
        let counter = Rc::clone(&calls);
        let lua = patched_state(Rc::new(move || {
            counter.set(counter.get() + 1);
            Ok(())
        }));
        // A few steps each, far fewer than CHECK_EVERY: the countdown
        // carries over from call to call.
        lua.load(
            r#"local s = ("x"):rep(100) .. "1"
               for i = 1, 10000 do
                 s:find("%d") s:match("x(%d)") s:gsub("1", "2")
                 for w in s:gmatch("%d") do end
               end"#,
        )
        .exec()
        .unwrap();
        assert!(calls.get() >= 20, "{} checks", calls.get());
    }

    #[test]
    fn hard_cap_stops_a_catastrophic_pattern_without_the_callback() {
        let calls = Rc::new(Cell::new(0u64));
        let counter = Rc::clone(&calls);
        let lua = patched_state(Rc::new(move || {
            counter.set(counter.get() + 1);
            Ok(())
        }));
        let started = Instant::now();
        let (ok, err): (bool, String) = lua
            .load(r#"return pcall(string.find, ("a"):rep(1e5), ".-.-.-.-x")"#)
            .eval()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(!ok);
        assert!(
            err.starts_with("pattern too complex: more than 200000000 steps"),
            "{err}"
        );
        assert_eq!(
            calls.get(),
            MAX_STEPS / CHECK_EVERY - 1 + (MAX_STEPS % CHECK_EVERY != 0) as u64
        );
        println!("hard cap of {MAX_STEPS} steps reached in {elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }

    #[test]
    fn plain_find_of_a_long_needle_is_budgeted() {
        let lua = patched_state(Rc::new(|| Err("stop".to_string())));
        // Quadratic for a naive search: a million candidates, each
        // compared over a long prefix.
        let err = lua
            .load(
                r#"local s = ("a"):rep(2e6)
                   return s:find(("a"):rep(1e5) .. "b", 1, true)"#,
            )
            .exec()
            .unwrap_err();
        assert!(err.to_string().contains("stop"), "{err}");
    }

    #[test]
    fn gsub_results_larger_than_the_heap_limit_fail_as_memory_errors() {
        let lua = patched_state(no_check());
        lua.set_memory_limit(64 * 1024 * 1024).unwrap();
        let err = lua
            .load(r#"return (("x"):rep(1e6)):gsub("", ("y"):rep(1000))"#)
            .exec()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("memory"), "{text}");
    }

    /// Seconds per call of `call` (a Lua expression using `s`) over `n`
    /// calls.
    fn time(lua: &Lua, setup: &str, call: &str, n: u32) -> f64 {
        let code = format!(
            "{setup}
             local t0 = os.clock()
             for i = 1, {n} do local a, b = {call} end
             return (os.clock() - t0) / {n}"
        );
        lua.load(&code).eval::<f64>().unwrap()
    }

    #[test]
    fn timing_against_luajit() {
        let (orig, ours) = (plain_state(), patched_state(no_check()));
        let short = r#"local s = "the quick brown fox jumps over the lazy dog 2024-06-11""#;
        let long = r#"local s = ("abcdefghij"):rep(1e5) .. "needle""#;
        let cases = [
            (
                "plain find, short",
                short,
                r#"string.find(s, "lazy", 1, true)"#,
                200_000,
            ),
            (
                "find w/o specials, short",
                short,
                r#"s:find("dog")"#,
                200_000,
            ),
            (
                "simple match, short",
                short,
                r#"s:match("(%d+)-(%d+)")"#,
                200_000,
            ),
            (
                "anchored match, short",
                short,
                r#"s:match("^(%a+)")"#,
                200_000,
            ),
            ("gsub, short", short, r#"s:gsub("o", "0")"#, 100_000),
            (
                "gmatch words, short",
                short,
                r#"0 for w in s:gmatch("%a+") do end"#,
                50_000,
            ),
            (
                "plain find, 1 MB",
                long,
                r#"string.find(s, "needle", 1, true)"#,
                200,
            ),
            ("pattern find, 1 MB", long, r#"s:find("ne+dle")"#, 100),
            ("class find, 1 MB", long, r#"s:find("%d")"#, 100),
        ];
        for jit in ["jit.on()", "jit.off()"] {
            orig.load(jit).exec().unwrap();
            ours.load(jit).exec().unwrap();
            for (name, setup, call, n) in cases {
                let want = time(&orig, setup, call, n);
                let got = time(&ours, setup, call, n);
                println!(
                    "{jit:9} {name:26} LuaJIT {:10.1} ns  ours {:10.1} ns  ({:.1}x)",
                    want * 1e9,
                    got * 1e9,
                    got / want
                );
            }
        }
    }
}
