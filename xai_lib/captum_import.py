"""``captum.attr``, imported quietly: captum's ``tqdm.auto`` import emits a TqdmWarning where ipywidgets is absent,
and it would land in every chapter's stderr. The models' activation copies and the captum glue import captum here."""

from __future__ import annotations

import warnings


def captum_attr():
    """``captum.attr``, imported without the TqdmWarning it emits where ipywidgets is absent."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*IProgress not found.*")
        import captum.attr as ca
    return ca
