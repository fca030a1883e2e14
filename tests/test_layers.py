"""kstor.kube, kstor.model, kstor.sim and chaos never import Textual (proved in a fresh interpreter)."""

import subprocess
import sys

import pytest

HEADLESS = ["kstor.kube", "kstor.model", "kstor.sim", "chaos"]


@pytest.mark.parametrize("package", HEADLESS)
def test_headless_package_does_not_import_textual(package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print('textual modules:', bad[:3])\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
