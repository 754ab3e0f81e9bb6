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
