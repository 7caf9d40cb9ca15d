"""Attribution metrics: insertion, SIC/AIC by PAIR's protocol (``pic``) and by the IDGI paper's protocol
(``pic_idgi``, entropy or MS-SSIM information level), weakly supervised localisation."""

from .common import MetricResult, SkippedImageError, saliency_2d, webp_size, webp_sizes
from .insertion import insertion_auc, insertion_aucs, insertion_images
from .localisation import localisation, normalised_saliency
from .pic import PAIR_THRESHOLDS, aggregate_pair, blurred_image, pair_random_mask, pic_pair
from .pic_idgi import IDGI_THRESHOLDS, IDGIPicResult, binned_curve, pic_idgi

__all__ = [
    "MetricResult", "SkippedImageError", "saliency_2d", "webp_size", "webp_sizes", "insertion_auc", "insertion_aucs",
    "insertion_images", "localisation", "normalised_saliency", "PAIR_THRESHOLDS", "aggregate_pair", "blurred_image",
    "pair_random_mask", "pic_pair", "IDGI_THRESHOLDS", "IDGIPicResult", "binned_curve", "pic_idgi",
]  # fmt: skip
