#!/usr/bin/env python3
"""Fails when a crate's modules depend on each other in a cycle (`just lint`, `.ci/run`).

A module is a source file (`src/a/b.rs` or `src/a/b/mod.rs` is `a::b`; `src/lib.rs` is the
root). Module A depends on module B when A's code names a path into B: `crate::b::…`,
`super::…`, `self::…` or a `use` of one of those, anywhere in the file outside its
`#[cfg(test)] mod tests` block. The longest module prefix of the path is the target, so
`crate::a::b::Item` is `a::b` when that module exists, else `a`.

Two kinds of reference are not dependencies: a `mod child;` declaration, and a re-export
(`pub use …` / `pub(crate) use …`), which makes a parent the facade of its children without
the parent's own code using them. Everything else counts, between siblings, parent and child
alike: a child that uses its parent's items while the parent's code uses the child's is a
cycle.

Usage: scripts/module-cycles.py [CRATE_DIR …]   (default: every crate under crates/, examples/,
clients/)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_of(src: Path, file: Path) -> str:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts == ["lib"]:
        return ""
    return "::".join(parts)


def strip(text: str) -> str:
    """The code without comments, string literals and the unit-test module."""
    cut = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+tests\b", text)
    if cut:
        text = text[: cut.start()]
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` → [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and start is not None:
                head = tree[:start].rstrip(":")
                inner, tail = tree[start + 1 : i], tree[i + 1 :]
                items, level, cur = [], 0, ""
                for c in inner:
                    if c == "," and level == 0:
                        items.append(cur)
                        cur = ""
                        continue
                    level += c == "{"
                    level -= c == "}"
                    cur += c
                items.append(cur)
                out = []
                for item in filter(None, items):
                    for e in expand(item):
                        out.append(f"{head}::{e}{tail}" if head else e + tail)
                return out
    return [tree]


def resolve(path: str, here: str, is_mod_rs: bool) -> list[str] | None:
    """`path` as segments from the crate root, or None when it is not crate-relative."""
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    here_segs = here.split("::") if here else []
    # In `a/b.rs` (module a::b), `super` is `a`; in `a/b/mod.rs` too.
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] == "self":
        return here_segs + segs[1:]
    if segs[0] == "super":
        base = here_segs[:]
        while segs and segs[0] == "super":
            if not base:
                return None
            base.pop()
            segs = segs[1:]
        return base + segs
    return None


def edges_of(text: str, here: str, is_mod_rs: bool, modules: set[str]) -> set[str]:
    code = strip(text)
    # Re-exports are a facade, not a dependency.
    code = re.sub(r"\bpub(\([^)]*\))?\s+use\s+[^;]*;", " ", code)
    paths: list[str] = []
    for m in re.finditer(r"\buse\s+([^;]*);", code):
        paths.extend(expand(m.group(1)))
    code = re.sub(r"\buse\s+[^;]*;", " ", code)
    paths.extend(
        m.group(0) for m in re.finditer(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+", code)
    )
    # Uniform paths: a child module named without `self::` (`use child::X`, `child::f()`).
    here_prefix = here + "::" if here else ""
    children = {m[len(here_prefix):].split("::")[0] for m in modules if m.startswith(here_prefix) and m != here}
    for m in re.finditer(r"(?<![:\w])([a-z_][a-z0-9_]*)::", code):
        if m.group(1) in children:
            paths.append("self::" + m.group(1))
    paths = ["self::" + p if p.split("::")[0] in children else p for p in paths]
    out = set()
    for p in paths:
        p = p.split(" as ")[0].split("as")[0] if " as " in p else p
        segs = resolve(p, here, is_mod_rs)
        if segs is None:
            continue
        target = ""
        for i in range(len(segs), 0, -1):
            cand = "::".join(segs[:i])
            if cand in modules:
                target = cand
                break
        if target != here and not (here and target.startswith(here + "::") and False):
            out.add(target)
    out.discard(here)
    return out


def sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def check(crate: Path) -> list[str]:
    src = crate / "src"
    if not (src / "lib.rs").exists():
        return []
    files = [f for f in src.rglob("*.rs") if f.name != "main.rs" and "bin" not in f.relative_to(src).parts]
    modules = {module_of(src, f) for f in files}
    graph = {}
    for f in files:
        here = module_of(src, f)
        graph[here] = edges_of(f.read_text(), here, f.name == "mod.rs", modules)
    problems = []
    for comp in sccs(graph):
        members = set(comp)
        detail = "; ".join(
            f"{m or 'lib.rs'} → {', '.join(sorted((t or 'lib.rs') for t in graph[m] & members))}"
            for m in comp
        )
        problems.append(f"{crate.relative_to(ROOT)}: cycle among {', '.join(m or 'lib.rs' for m in comp)} ({detail})")
    return problems


def self_test() -> None:
    """The checker finds a cycle through `use`, `super::` and inline paths, and not through a
    re-export or a test module."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        (src / "a").mkdir(parents=True)
        (src / "lib.rs").write_text("mod a;\nmod b;\npub use a::Thing;\n")
        (src / "a" / "mod.rs").write_text("mod c;\npub use c::Other;\npub struct Thing;\n")
        (src / "a" / "c.rs").write_text("use super::Thing;\npub struct Other;\n")
        (src / "b.rs").write_text("fn f() { let _ = crate::a::Thing; }\n"
                                  "#[cfg(test)]\nmod tests { use crate::a::c::Other; }\n")
        global ROOT
        saved, ROOT = ROOT, Path(tmp)
        try:
            assert check(Path(tmp)) == [], check(Path(tmp))
            (src / "a" / "mod.rs").write_text("mod c;\npub struct Thing;\nfn g() { c::h(); }\n")
            found = check(Path(tmp))
            assert len(found) == 1 and "a, a::c" in found[0], found
            (src / "a" / "mod.rs").write_text("mod c;\nuse crate::{b::{f as _}};\npub struct Thing;\n")
            found = check(Path(tmp))
            assert len(found) == 1 and "a, b" in found[0], found
        finally:
            ROOT = saved
    print("self-test passed")


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    crates = [Path(a).resolve() for a in sys.argv[1:]] or sorted(
        p.parent for pattern in ("crates/*/Cargo.toml", "examples/Cargo.toml", "clients/*/Cargo.toml")
        for p in ROOT.glob(pattern)
    )
    problems = [p for c in crates for p in check(c)]
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} module cycle(s)", file=sys.stderr)
        return 1
    print(f"no module cycles in {len(crates)} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
