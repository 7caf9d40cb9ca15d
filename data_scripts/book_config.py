"""The book's configuration, with repository and launch buttons when a repository is given (one setting).

    python -m data_scripts.book_config https://github.com/you/attribution-noise-lab   # prints the config path

Without a URL the committed ``_config.yml`` is used as it is (no repository or launch buttons: a button must
not point at a repository that does not exist). With one, ``_build/_config.repository.yml`` is written: the same
configuration plus the repository button and Binder/Colab launch buttons; ``make html BOOK_REPOSITORY=URL`` uses
it. A notebook opened on Colab or Binder installs ``xai_lib`` from ``XAI_LIB_SOURCE`` (e.g. ``git+URL``): see the
first cell of each chapter.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    url = argv[0].strip() if argv else ""
    if not url:
        print(ROOT / "_config.yml")
        return 0
    if not re.match(r"^https://[^\s]+/[^\s]+/[^\s]+$", url):
        sys.exit(f"BOOK_REPOSITORY: expected https://host/owner/repo, got {url!r}")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"] = {"url": url, "path_to_book": "", "branch": "main"}
    config.setdefault("html", {}).update({"use_repository_button": True, "use_issues_button": True})
    config["launch_buttons"] = {
        "notebook_interface": "jupyterlab", "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
    }  # fmt: skip
    out = ROOT / "_build" / "_config.repository.yml"
    out.parent.mkdir(exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
