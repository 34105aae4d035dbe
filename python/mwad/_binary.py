"""Where the mwad program is, and the console script that runs it."""
import os
import shutil
import sys


def binary_path():
    """The mwad program: $MWAD_BINARY, else the one inside this package (the wheel),
    else the first `mwad` on PATH that is not this package's console script."""
    explicit = os.environ.get("MWAD_BINARY")
    if explicit:
        return explicit
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "mwad")
    if os.path.isfile(bundled) and os.access(bundled, os.X_OK):
        return bundled
    scripts = os.path.realpath(os.path.dirname(sys.executable))
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("mwad", path=folder)
        if found and os.path.realpath(os.path.dirname(found)) != scripts:
            return found
    raise FileNotFoundError(
        "the mwad program is not in this package (a source checkout?) nor on PATH: "
        "install the wheel (pip install mwad-*.whl) or set MWAD_BINARY to the binary")


def main():
    """The `mwad` console script: replaces this Python process with the program."""
    try:
        program = binary_path()
    except FileNotFoundError as error:
        print(f"mwad: error: {error}", file=sys.stderr)
        sys.exit(127)
    os.execv(program, [program, *sys.argv[1:]])
