"""Path attribution with and without IDGI: pure kernels (``kernels``, ``paths``, ``guided``), model glue
(``methods``)."""

from .analytic import AnalyticModel, curved_valley
from .guided import guided_ig
from .kernels import IDGIAccumulator, idgi, step_decomposition
from .methods import IG, BlurIG, GuidedIG, VanillaGradient
from .paths import gaussian_blur, riemann_alphas, straight_line

__all__ = [
    "IG", "BlurIG", "GuidedIG", "VanillaGradient", "IDGIAccumulator", "idgi", "guided_ig", "gaussian_blur",
    "riemann_alphas", "straight_line", "AnalyticModel", "curved_valley", "step_decomposition",
]  # fmt: skip
