# ECScope's Python prelude, compiled once per interpreter.
#
# Every script runs as its own module whose `__builtins__` is a private copy
# of the builtins: `print` goes to the console, and `__import__` hands out
# the script's own `ecs` object and loads the project's modules from
# `scripts/` (before the standard library and installed packages). Project
# modules are cached per script, not in `sys.modules`, so two projects, or a
# script and its reloaded version, never share a module by accident.
import builtins as _builtins
import os as _os
import types as _types

_real_import = _builtins.__import__


def make_builtins(ecs, printer, root, record_dependency):
    """The builtins of one script."""
    table = dict(_builtins.__dict__)
    modules = {}

    def find(name):
        rel = name.replace(".", "/")
        for candidate in ("scripts/%s.py" % rel, "scripts/%s/__init__.py" % rel):
            if _os.path.isfile(_os.path.join(root, candidate)):
                return candidate
        return None

    def load(name, rel):
        full = _os.path.join(root, rel)
        with open(full, "rb") as f:
            data = f.read()
        if b"\0" in data:
            raise ImportError("%s is a binary file, not a Python module" % rel)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ImportError("%s is not valid UTF-8 text (bad byte at offset %d)" % (rel, e.start))
        module = _types.ModuleType(name)
        module.__file__ = rel
        module.__builtins__ = table
        if rel.endswith("/__init__.py"):
            module.__path__ = [_os.path.dirname(full)]
        modules[name] = module
        record_dependency(rel)
        try:
            exec(compile(text, rel, "exec"), module.__dict__)
        except BaseException:
            del modules[name]
            raise
        return module

    def project_module(name):
        if name in modules:
            return modules[name]
        parent, _, child = name.rpartition(".")
        if parent and project_module(parent) is None:
            return None
        rel = find(name)
        if rel is None:
            return None
        module = load(name, rel)
        if parent:
            setattr(modules[parent], child, module)
        return module

    def ecs_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            if name == "ecs":
                return ecs
            top = name.partition(".")[0]
            if top in modules or find(top) is not None:
                module = project_module(name)
                if module is not None:
                    if fromlist:
                        for item in fromlist:
                            if item != "*" and not hasattr(module, item):
                                project_module(name + "." + item)
                        return module
                    return modules[top]
        return _real_import(name, globals, locals, fromlist, level)

    table["__import__"] = ecs_import
    table["print"] = printer
    # The host clears these when the script goes away, to break the
    # module <-> function cycles at once.
    table["__ecscope_modules__"] = modules
    return table


def load_script(path, text, module_name, builtins_table):
    """Runs a script's top level in a fresh module and returns the module."""
    module = _types.ModuleType(module_name)
    module.__file__ = path
    module.__builtins__ = builtins_table
    exec(compile(text, path, "exec"), module.__dict__)
    return module


def reachable_size(module, persist, limit):
    """Bytes of the objects a script's module and ecs.persist reach (at
    most `limit` objects), for the leak detector: what the script keeps.
    Other modules, classes, and the builtins are shared, not the script's,
    and are not followed."""
    import gc
    import sys

    skip = {id(_builtins.__dict__), id(getattr(module, "__builtins__", None))}
    seen = set()
    stack = [module.__dict__, persist]
    total = 0
    while stack and len(seen) < limit:
        obj = stack.pop()
        key = id(obj)
        if key in seen or key in skip:
            continue
        seen.add(key)
        if isinstance(obj, (_types.ModuleType, type)) and obj is not module:
            continue
        try:
            total += sys.getsizeof(obj)
        except Exception:
            continue
        stack.extend(gc.get_referents(obj))
    return total


# Leak hunting ----------------------------------------------------------------
#
# While the leak detector suspects a Python script, the host takes two
# censuses of the lists, dicts and sets its module and ecs.persist reach, a
# window apart: the containers that gained the most entries are what grows.
# Then, for a moment, a line tracer on the script's own frames compares
# their lengths at each line: the line after which one grew is the one that
# adds to it. (tracemalloc would find the line too, but CPython 3.11 can
# crash when a thread first takes the GIL while it traces.) The host sets
# the tracer on the script's calls while the debugger does not trace.

_CENSUS_VISITS = 20000
_PATH_CONTAINERS = 256
_WATCHED = 16
_hunt = {}
_watch = {}


def _census(module, persist):
    """{path: [entries, containers, type name, [first containers]]}"""
    out = {}
    seen = set()
    skip = {id(_builtins.__dict__)}
    stack = [(k, v) for k, v in list(module.__dict__.items()) if not k.startswith("__")]
    stack.append(("ecs.persist", persist))
    visits = 0
    per_path = {}

    def elements(path, values):
        key = path + "[*]"
        room = _PATH_CONTAINERS - per_path.get(key, 0)
        taken = [v for v in values if isinstance(v, (dict, list, set, _collections.deque))][:max(room, 0)]
        per_path[key] = per_path.get(key, 0) + len(taken)
        stack.extend((key, v) for v in taken)

    def count(path, obj):
        entry = out.setdefault(path, [0, 0, type(obj).__name__, []])
        entry[0] += len(obj)
        entry[1] += 1
        if len(entry[3]) < _WATCHED:
            entry[3].append(obj)

    while stack and visits < _CENSUS_VISITS:
        path, obj = stack.pop()
        if id(obj) in seen or id(obj) in skip:
            continue
        if isinstance(obj, (_types.ModuleType, type, _types.FunctionType)):
            continue
        seen.add(id(obj))
        visits += 1
        if isinstance(obj, dict):
            count(path, obj)
            others = []
            for k, v in list(obj.items()):
                if isinstance(k, str):
                    stack.append((path + "." + k, v))
                else:
                    others.append(v)
            elements(path, others)
        elif isinstance(obj, (list, set, tuple, _collections.deque)):
            if not isinstance(obj, tuple):
                count(path, obj)
            elements(path, list(obj))
        elif hasattr(obj, "__dict__") and not callable(obj):
            for k, v in list(vars(obj).items()):
                stack.append((path + "." + k, v))
    return out


def _leak_tracer(filename, watch):
    targets, lens, hits, last = watch["targets"], watch["lens"], watch["hits"], {}

    def grew():
        found = False
        for i, t in enumerate(targets):
            n = len(t)
            if n > lens[i]:
                lens[i] = n
                found = True
        return found

    def local(frame, event, arg):
        if event == "line" or event == "return":
            key = id(frame)
            prev = last.get(key)
            if grew() and prev is not None:
                hits[prev] = hits.get(prev, 0) + 1
            if event == "line":
                last[key] = frame.f_lineno
            else:
                last.pop(key, None)
        return local

    def call(frame, event, arg):
        return local if frame.f_code.co_filename == filename else None

    return call


def hunt_leak(step, module, persist, filename):
    """step "start": the first census. "watch": the second; returns the
    line tracer that watches what grew most, for the host to set on the
    script's calls (or None). "finish": the containers' path, type name,
    growth in entries and number, and the line that added most, or None."""
    if step == "start":
        _hunt[filename] = _census(module, persist)
        return None
    if step == "watch":
        before = _hunt.pop(filename, None)
        if before is None:
            return None
        after = _census(module, persist)
        best = None
        for path, (size, count, kind, objs) in after.items():
            growth = size - before.get(path, [0])[0]
            if growth > 0 and (best is None or growth > best[1] or (growth == best[1] and path < best[0])):
                best = (path, growth, count, kind, objs)
        if best is None:
            return None
        watch = {"found": best[:4], "targets": best[4], "lens": [len(t) for t in best[4]], "hits": {}}
        _watch[filename] = watch
        return _leak_tracer(filename, watch)
    watch = _watch.pop(filename, None)
    if watch is None:
        return None
    path, growth, count, kind = watch["found"]
    line = None
    if watch["hits"]:
        line = "%s:%d" % (filename, max(sorted(watch["hits"]), key=lambda l: watch["hits"][l]))
    return path, kind, growth, count, line


# The debugger ---------------------------------------------------------------
#
# Evaluates typed code in a stopped frame. The frame's locals are read as a
# dict, the code runs with them (and `ecs`, even where the script named it
# otherwise), and the host writes the dict back into the frame. The code
# runs under a tracer that stops it past `steps` instructions, since the
# debugger's own trace function runs no tracing inside it.
import collections as _collections
import sys as _sys


def _render(value):
    try:
        text = repr(value)
    except Exception as e:  # a broken __repr__ must not break the debugger
        text = "<repr failed: %s>" % type(e).__name__
    if len(text) > 120:
        text = text[:117] + "..."
    return text


def _is_record(value):
    # Live components and other mappings that are not dicts: their fields
    # are listed by keys() and read by [name].
    kind = type(value)
    return not isinstance(value, dict) and hasattr(kind, "keys") and hasattr(kind, "__getitem__")


def _expandable(value):
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        return len(value) > 0
    if isinstance(value, (type, _types.ModuleType, _types.FunctionType)):
        return False
    if _is_record(value):
        return True
    return bool(getattr(value, "__dict__", None))


def _truthy(value):
    try:
        return bool(value)
    except Exception:
        return False


def _record(name, value, expr):
    return (name, _render(value), type(value).__name__, expr, _expandable(value), _truthy(value))


def _limited(fn, steps):
    count = [0]

    def tracer(frame, event, arg):
        # Per instruction: a one-line loop (`while True: pass`) reports
        # no new lines.
        frame.f_trace_opcodes = True
        count[0] += 1
        if count[0] > steps:
            raise RuntimeError("stopped: more than %d steps run (an endless loop?)" % steps)
        return tracer

    def run():
        _sys.settrace(tracer)
        try:
            return fn()
        finally:
            _sys.settrace(None)

    return _sys.call_tracing(run, ())


def _child_expr(parent, key):
    if isinstance(key, (str, int, float, bool)) or key is None:
        return "(%s)[%r]" % (parent, key)
    return ""


def _children(value, code, shown, steps):
    out = []
    if isinstance(value, dict):
        items = [(repr(k), v, _child_expr(code, k)) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [("[%d]" % i, v, "(%s)[%d]" % (code, i)) for i, v in enumerate(value)]
    elif isinstance(value, (set, frozenset)):
        items = [("item", v, "") for v in value]
    elif _is_record(value):
        # keys() and [] may be a script's own code: bounded like any
        # evaluation.
        items = _limited(
            lambda: [(k, value[k], _child_expr(code, k)) for k in type(value).keys(value)], steps
        )
    else:
        fields = getattr(value, "__dict__", None) or {}
        items = [(k, v, "(%s).%s" % (code, k)) for k, v in fields.items()]
    for name, v, expr in items[:shown]:
        out.append(_record(name, v, expr))
    if len(items) > shown:
        out.append(("...", "%d more not shown" % (len(items) - shown), "", "", False, False))
    return out


_compiled = {}


def debug_evaluate(frame, mode, code, steps, shown):
    """Evaluates in `frame`: mode "locals", "eval" or "children". Returns a
    record (name, value, type, expr, expandable, truthy), or a list of
    them; raises on failure."""
    local_vars = frame.f_locals
    if mode == "locals":
        return [_record(k, v, k) for k, v in local_vars.items()]
    g = frame.f_globals
    scope = local_vars
    if "ecs" not in local_vars and "ecs" not in g:
        builtins = g.get("__builtins__")
        importer = builtins.get("__import__") if isinstance(builtins, dict) else None
        if importer is not None:
            scope = _collections.ChainMap(local_vars, {"ecs": importer("ecs")})
    # A condition is evaluated at every pass of its line: compiled once.
    cached = _compiled.get(code)
    if cached is None:
        try:
            cached = (compile(code, "<debug>", "eval"), True)
        except SyntaxError:
            cached = (compile(code, "<debug>", "exec"), False)
        if len(_compiled) >= 256:
            _compiled.clear()
        _compiled[code] = cached
    compiled, expression = cached
    value = _limited(lambda: eval(compiled, g, scope), steps)
    if mode == "test":
        return _truthy(value)
    if mode == "children":
        if not _expandable(value):
            raise TypeError("%s is a %s, which has no items or attributes" % (code, type(value).__name__))
        return _children(value, code, shown, steps)
    if not expression:
        return ("", "ok", "statement", "", False, True)
    return _record("", value, code)
