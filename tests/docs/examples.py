#!/usr/bin/env python3
"""What a guide shows a command printing, this test checks it still prints.

    examples.py BUILD_DIR SOURCE_DIR [DOC.md ...]

Every fenced block in docs/*.md whose first line starts with "$ " is an
example: each "$ COMMAND" line is run with bash (stdout and stderr together,
in order), and its output must equal the lines that follow it, up to the
next "$ " line or the end of the block. In the expected lines, a line that is
only "..." (indented or not) stands for any number of lines (the guide
shortened the output).

An HTML comment just before the block (blank lines allowed between) sets how
it runs:

    <!-- example: cwd=tests/golden/check -->   run there (default: the source tree)
    <!-- example: skip (why) -->                not run: says why (an install,
                                                a timing, a file the reader makes)
    <!-- example: cwd=DIR run=COMMAND -->       a block without "$" lines is an
                                                excerpt: each of its lines, in
                                                order, must be among what COMMAND
                                                prints (--update leaves it alone)

The commands run in a scratch copy of the folder they name, so an example
that writes a file (quy build -o x.qbc) leaves the tree clean; the source
tree's absolute path is left out of what they print (as seen from the tree). The commands of
one block run in one shell, so "cd" and "$?" carry over. "build/" in a
command (build/quy, build/tests/...), with any "../" before it, means BUILD_DIR/. Within a line,
"..." stands for any text (the guide shortened a long line).
"""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

DIRECTIVE = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
QUY_PATH = re.compile(r"(?<![\w/.-])(?:\.\./)*build/")
TIMEOUT = 120
UPDATE_MAX = 40     # --update leaves longer outputs to a person (shorten with '...')


def blocks(path):
    """Yield (line number, directive, lines) for each fenced block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    directive, i = None, 0
    while i < len(lines):
        line = lines[i]
        m = DIRECTIVE.match(line)
        if m:
            directive = m.group(1)
        elif line.startswith("```"):
            start, body, i = i + 1, [], i + 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            yield start, directive, body
            directive = None
        elif line.strip():
            directive = None
        i += 1


def line_matches(expected, actual):
    """Equal, or equal where the guide wrote '...' for a part of the line."""
    if expected == actual:
        return True
    if "..." not in expected:
        return False
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def matches(expected, actual):
    """Lines equal, where an expected '...' line eats any number of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return (bool(actual) and line_matches(expected[0], actual[0])
            and matches(expected[1:], actual[1:]))


MARK = "@@quy-doc-example-step@@"


def run_steps(commands, cwd, build, source):
    """Run the block's commands in one shell (cd and $? carry over, as in a
    terminal); return each command's output lines (stdout and stderr)."""
    script = ["exec 2>&1"]
    for command in commands:
        script.append(QUY_PATH.sub(os.path.join(build, "") , command))
        script.append(f"__s=$?; printf '\\n%s\\n' '{MARK}'; (exit $__s)")
    env = dict(os.environ, LC_ALL="C.UTF-8", NO_COLOR="1", COLUMNS="100")
    env.pop("QUY_RULESETS", None)
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    text = p.stdout.decode("utf-8", "replace")
    # quy names the source tree's rulesets by their absolute path when the
    # example's folder has no rulesets/ of its own: show it from the tree
    text = text.replace(os.path.join(source, ""), "")
    parts = text.split("\n" + MARK + "\n")
    outputs = []
    for part in parts[:len(commands)]:
        lines = part.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        outputs.append(lines)
    while len(outputs) < len(commands):
        outputs.append(["(the shell stopped before this command)"])
    return outputs


def mirror(source, where, cwd):
    """A scratch view of the source tree: the folders on the way to cwd are
    real, their other entries symlinks; cwd's own files are copies, so an
    example that writes or edits a file there leaves the tree alone."""
    parts = [] if cwd in (".", "") else cwd.strip("/").split("/")
    src, dst = source, where
    for depth in range(len(parts) + 1):
        os.makedirs(dst, exist_ok=True)
        here = parts[depth] if depth < len(parts) else None
        for name in os.listdir(src):
            if name == here or name == ".git" or (depth == 0 and name.startswith("build")):
                continue
            s, d = os.path.join(src, name), os.path.join(dst, name)
            if here is None and os.path.isfile(s):
                shutil.copy2(s, d)
            else:
                os.symlink(s, d)
        if here is not None:
            src, dst = os.path.join(src, here), os.path.join(dst, here)


def check_block(doc, start, directive, body, build, source, scratch, update):
    cwd, run = ".", None
    if directive:
        if directive.startswith("skip"):
            return 0, 0
        m = re.fullmatch(r"(?:cwd=(\S+))?\s*(?:run=(.+))?", directive)
        if not m or not (m.group(1) or m.group(2)):
            print(f"{doc}:{start}: unknown example directive '{directive}': "
                  "write 'cwd=FOLDER', 'run=COMMAND', both, or 'skip (why)'")
            return 1, 1
        cwd, run = m.group(1) or ".", m.group(2)
    steps, current = [], None
    if run:
        # an excerpt: each line of the block, in order, among the command's output
        update = None
        excerpt = ["..."]
        for line in body:
            excerpt += [line, "..."]
        steps.append((run, excerpt))
    else:
        for line in body:
            if line.startswith("$ "):
                current = (line[2:], [])
                steps.append(current)
            elif current:
                current[1].append(line)
    where = os.path.join(scratch, f"b{start}")
    mirror(source, where, cwd)
    failed = count = 0
    outputs = run_steps([c for c, _ in steps], os.path.join(where, cwd), build, source)
    for (command, expected), actual in zip(steps, outputs):
        count += 1
        if not matches(expected, actual):
            if update is not None and len(actual) <= UPDATE_MAX:
                update.append((command, expected, actual))
                print(f"{doc}:{start}: `$ {command}` updated to what it prints now")
                continue
            failed += 1
            print(f"{doc}:{start}: `$ {command}` no longer prints what the guide shows")
            for l in difflib.unified_diff(expected, actual, "the guide shows", "it prints",
                                          lineterm="", n=1):
                print("    " + l)
    shutil.rmtree(where)
    return count, failed


def is_example(directive, body):
    """A "$ command" block, or an excerpt block with a run= directive."""
    if directive and re.search(r"(^|\s)run=", directive):
        return bool(body)
    return bool(body) and body[0].startswith("$ ")


def rewrite(path, updates):
    """Replace each updated command's expected lines (in order of the file)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    for command, expected, actual in updates:
        while lines[i] != "$ " + command:
            out.append(lines[i])
            i += 1
        out.append(lines[i])
        out.extend(actual)
        i += 1 + len(expected)
    out.extend(lines[i:])
    open(path, "w", encoding="utf-8").write("\n".join(out))


def main():
    args = sys.argv[1:]
    update = "--update" in args
    args = [a for a in args if a != "--update"]
    if len(args) < 2:
        sys.exit("usage: examples.py [--update] BUILD_DIR SOURCE_DIR [DOC.md ...]\n"
                 "  --update: write what each failing example prints now into the guide")
    build, source = os.path.abspath(args[0]), os.path.abspath(args[1])
    docs = args[2:] or sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(source, "docs"))
        if f.endswith(".md"))
    total = failed = 0
    with tempfile.TemporaryDirectory(prefix="quy-doc-examples-") as scratch:
        for doc in docs:
            updates = [] if update else None
            for start, directive, body in blocks(os.path.join(source, doc)):
                if not is_example(directive, body):
                    continue
                c, f = check_block(doc, start, directive, body, build, source, scratch, updates)
                total, failed = total + c, failed + f
            if updates:
                rewrite(os.path.join(source, doc), updates)
    print(f"{total - failed} of {total} guide examples print what the guide shows")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
