"""Attribution metrics: insertion, SIC/AIC by PAIR's protocol (``pic``) and by the IDGI paper's protocol
(``pic_idgi``, entropy or MS-SSIM information level), weakly supervised localisation and a mask's share of a
heatmap (``localisation``), the GAX paper's CO score (``co``), the GAD paper's RC (``hull``) and RS
(``occlusion``), and the fit of a GAD support regression (``support_fit``)."""

from .co import augment, co_gradient, co_score, co_scores, kappa
from .common import MetricResult, SkippedImageError, pixel_correlation, saliency_2d, webp_size, webp_sizes
from .hull import hull_area, hull_complexity, hull_mask
from .insertion import insertion_auc, insertion_aucs, insertion_images
from .localisation import localisation, mask_enrichment, normalised_saliency
from .occlusion import occlusion_sensitivity
from .pic import PAIR_THRESHOLDS, aggregate_pair, blurred_image, pair_random_mask, pic_pair_saliency
from .pic_idgi import IDGI_THRESHOLDS, IDGIPicResult, binned_curve, pic_idgi
from .support_fit import support_fit, support_fit_interval

__all__ = [
    "MetricResult", "SkippedImageError", "saliency_2d", "webp_size", "webp_sizes", "insertion_auc", "insertion_aucs",
    "insertion_images", "localisation", "normalised_saliency", "PAIR_THRESHOLDS", "aggregate_pair", "blurred_image",
    "pair_random_mask", "pic_pair_saliency", "IDGI_THRESHOLDS", "IDGIPicResult", "binned_curve", "pic_idgi", "augment",
    "co_gradient", "co_score", "co_scores", "kappa", "pixel_correlation", "hull_area", "hull_complexity", "hull_mask",
    "mask_enrichment", "occlusion_sensitivity", "support_fit", "support_fit_interval",
]  # fmt: skip
