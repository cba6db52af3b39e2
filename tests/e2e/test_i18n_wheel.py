"""`pip install .` ships working translations: the wheel holds the compiled catalogues and the
translated sample playbooks, and cobrowse unpacked from it speaks Russian, Chinese and Persian."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import cobrowse, sys
from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.playbook.catalogue import SAMPLES, Catalogue
assert cobrowse.__file__.startswith(sys.argv[1]), cobrowse.__file__
for lang in (Language.RU, Language.ZH, Language.FA):
    print(translator(lang, isolate=False)("the agent ended the session"))
print(Catalogue([SAMPLES]).find_for("fix-git-push", Language.RU).name)
"""


def test_the_wheel_speaks_the_customers_language(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("cobrowse-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for lang in ("ru", "zh", "fa"):
        assert f"cobrowse/locale/{lang}/LC_MESSAGES/cobrowse.mo" in names
    assert "cobrowse/playbook/samples/fix-git-push.ru.md" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-P", "-c", CHECK, str(site)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["специалист завершил сеанс", "客服人员结束了会话", "کارشناس جلسه را پایان داد",
                                       "fix-git-push.ru.md"]
    help_text = subprocess.run([sys.executable, "-P", "-m", "cobrowse", "join", "--help"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=60).stdout
    assert "--lang CODE" in help_text
